// The published contracts, loaded for the tests: the OpenAPI documents in
// contracts/openapi and the event schemas in contracts/events, compiled
// with ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONTRACTS = path.resolve(here, '../../../contracts');
export const APP = 'reviews';
export const GATEWAY_PREFIX = '/api';

// Parsed once per test process: the documents do not change under a run,
// and nothing here mutates them.
const docs = new Map();
export function readDoc(name) {
  if (!docs.has(name)) docs.set(name, YAML.parse(fs.readFileSync(path.join(CONTRACTS, 'openapi', name), 'utf8')));
  return docs.get(name);
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** The operations a document gives app (path-level x-app: one ID or a list). */
export function publishedOps(doc, app, { stripPrefix = '' } = {}) {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths ?? {})) {
    const apps = [item['x-app']].flat();
    if (!apps.includes(app)) continue;
    for (const m of METHODS) {
      if (item[m]) ops.push(`${m.toUpperCase()} ${p.startsWith(stripPrefix) ? p.slice(stripPrefix.length) : p}`);
    }
  }
  return ops.sort();
}

/** A path template's shape, whatever its parameters are called: /a/{}/b. */
export function shape(p) {
  return p.replace(/\{[^}]+\}/g, '{}').replace(/:[A-Za-z0-9_]+/g, '{}');
}

function newAjv() {
  // strict: false, so ajv ignores the OpenAPI keywords it does not know.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

let gateway;
/**
 * gateway.yaml once: its /api paths as patterns, and a validator per
 * response schema, compiled on first use (components registered under the
 * document's name, so rebased $refs resolve).
 */
function gatewayContract() {
  if (gateway) return gateway;
  const doc = readDoc('gateway.yaml');
  const ajv = newAjv();
  ajv.addSchema({ $id: 'gateway.yaml', components: doc.components });
  const compiled = new Map(); // schema object (from the one parsed doc) -> validator
  const validator = (schema) => {
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile(rebase(schema)));
    return compiled.get(schema);
  };
  const paths = Object.keys(doc.paths)
    .filter((p) => p.startsWith(GATEWAY_PREFIX))
    .map((templ) => ({ templ, re: pathPattern(templ.slice(GATEWAY_PREFIX.length)) }));
  gateway = { doc, paths, validator };
  return gateway;
}

// A schema taken out of the document: its local $refs point into it.
function rebase(schema) {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/components/', '"$ref":"gateway.yaml#/components/'));
}

/**
 * Asserts that an answer of the app (to an /api path of the gateway,
 * without the prefix) is one gateway.yaml documents: a status the
 * operation lists, or a problem under default, with a body its schema
 * admits.
 */
export function assertDocumented(method, appPath, res) {
  const { doc, paths, validator } = gatewayContract();
  const pathname = appPath.split('?')[0];
  const templ = paths.find((p) => p.re.test(pathname))?.templ;
  assert.ok(templ, `no gateway.yaml path matches ${appPath}`);
  const op = doc.paths[templ][method.toLowerCase()];
  assert.ok(op, `gateway.yaml has no ${method} ${templ}`);
  const status = String(res.statusCode);
  let response = op.responses[status];
  if (!response) {
    assert.ok(res.statusCode >= 400, `${method} ${templ}: ${status} is not documented`);
    response = op.responses.default;
  }
  if (response.$ref) response = resolve(doc, response.$ref);
  if (!response.content) {
    assert.equal(res.body, '', `${method} ${templ} ${status}: documented without a body`);
    return;
  }
  const type = String(res.headers['content-type'] ?? '').split(';')[0];
  const media = response.content[type];
  assert.ok(media, `${method} ${templ} ${status}: content type ${type} is not documented`);
  const validate = validator(media.schema);
  const body = JSON.parse(res.body);
  assert.ok(validate(body), `${method} ${templ} ${status}: ${JSON.stringify(validate.errors)} in ${res.body}`);
}

function resolve(doc, ref) {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((o, k) => o[k], doc);
}

function pathPattern(templ) {
  return new RegExp('^' + templ.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$');
}

const EVENTS_BASE = 'https://daprshop.example/contracts/events/';

/** The event schema of topic, compiled with defs.schema.json. */
export function eventSchema(topic) {
  const ajv = newAjv();
  for (const f of ['defs.schema.json', `${topic}.schema.json`]) {
    const s = JSON.parse(fs.readFileSync(path.join(CONTRACTS, 'events', f), 'utf8'));
    assert.equal(s.$id, EVENTS_BASE + f, `${f}: $id`);
    ajv.addSchema(s);
  }
  return ajv.getSchema(EVENTS_BASE + `${topic}.schema.json`);
}
