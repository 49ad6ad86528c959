// Small DOM helpers: elements are built with h(), never from HTML strings,
// so text from the API can never become markup.

/**
 * h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child, [children])
 * Attributes: strings go through setAttribute; on* take functions; the
 * properties value, checked, selected, disabled, hidden are set as such;
 * null, undefined and false leave the attribute out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (['value', 'checked', 'selected', 'disabled', 'hidden'].includes(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** A unique element id. */
export function nextId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: {label, name, type, ...input attributes, hint}. */
export function field({ label, hint, tag = 'input', options, ...attrs }) {
  const id = attrs.id || nextId(attrs.name || 'f');
  let control;
  if (tag === 'select') {
    control = h('select', { id, ...attrs },
      (options || []).map((o) => h('option', { value: o.value, selected: o.value === attrs.value }, o.label)));
  } else if (tag === 'textarea') {
    control = h('textarea', { id, ...attrs });
  } else {
    control = h('input', { id, type: 'text', ...attrs });
  }
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

// Money: amounts are integers in the currency's minor unit.
const formats = new Map();
function format(currency) {
  const key = currency || 'EUR';
  if (!formats.has(key)) {
    try {
      formats.set(key, new Intl.NumberFormat(undefined, { style: 'currency', currency: key }));
    } catch {
      formats.set(key, new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }));
    }
  }
  return formats.get(key);
}

/** The number of decimals of a currency's minor unit (2 for EUR, 0 for JPY). */
function minorDigits(currency) {
  return format(currency).resolvedOptions().maximumFractionDigits;
}

/** Formats {amount, currency}. */
export function money(m) {
  if (!m || typeof m.amount !== 'number') return '';
  return format(m.currency).format(m.amount / 10 ** minorDigits(m.currency));
}

/** Major units as typed ("12.5") to minor units (1250), or NaN. */
export function toMinor(text, currency) {
  const s = String(text).trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(s)) return NaN;
  return Math.round(Number(s) * 10 ** minorDigits(currency));
}

/** Minor units to the text of a price input. */
export function toMajor(amount, currency) {
  const d = minorDigits(currency);
  return (amount / 10 ** d).toFixed(d);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateFormat.format(d);
}

/** A <time> element. */
export function time(iso) {
  return h('time', { datetime: iso }, when(iso));
}

// The live region: one polite announcement at a time.
let timer;
export function announce(message, kind = 'info') {
  const region = document.getElementById('status');
  if (!region) return;
  clearTimeout(timer);
  region.textContent = '';
  region.dataset.kind = kind;
  // A fresh text node after a tick, so that a repeated message is read again.
  timer = setTimeout(() => { region.textContent = message; }, 50);
}

/** Removes the messages showProblem left in form. */
export function clearProblem(form) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const described = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => !x.endsWith('-error'));
    if (described.length) el.setAttribute('aria-describedby', described.join(' '));
    else el.removeAttribute('aria-describedby');
  }
  const summary = form.querySelector('.form-error');
  if (summary) { summary.textContent = ''; summary.hidden = true; }
}

/**
 * Shows an API error in form: each field error next to its control (matched
 * by name, or by a data-field list such as "price.amount price.currency"),
 * the detail (and unmatched field errors) in the form's summary, and the
 * detail in the live region.
 */
export function showProblem(form, err) {
  clearProblem(form);
  const rest = [];
  for (const fe of err.fieldErrors || []) {
    const control = findControl(form, fe.field);
    if (!control) { rest.push(`${fe.field}: ${fe.message}`); continue; }
    const id = `${control.id}-error`;
    if (document.getElementById(id)) {
      document.getElementById(id).append(` ${fe.message}`);
      continue;
    }
    const msg = h('p', { class: 'field-error', id, 'data-testid': 'field-error', 'data-field': fe.field }, fe.message);
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    const holder = control.closest('.field, fieldset');
    if (holder) holder.append(msg);
    else control.after(msg);
  }
  let summary = form.querySelector('.form-error');
  if (!summary) {
    summary = h('div', { class: 'form-error', 'data-testid': 'form-error', tabindex: '-1' });
    form.prepend(summary);
  }
  replace(summary, h('p', {}, err.message), rest.length ? h('ul', {}, rest.map((r) => h('li', {}, r))) : null);
  if (err.status) summary.dataset.status = String(err.status);
  else delete summary.dataset.status;
  summary.hidden = false;
  announce(err.message, 'error');
}

function findControl(form, name) {
  for (const el of form.querySelectorAll('input, select, textarea')) {
    if (el.name === name) return el;
    const fields = (el.dataset.field || '').split(' ');
    if (fields.includes(name)) return el;
  }
  return null;
}

/** Disables a form's controls while work runs. */
export async function busy(form, work) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')].filter((c) => !c.disabled);
  form.setAttribute('aria-busy', 'true');
  controls.forEach((c) => { c.disabled = true; });
  try {
    return await work();
  } finally {
    controls.forEach((c) => { c.disabled = false; });
    form.removeAttribute('aria-busy');
  }
}

/** A heading that takes focus after navigation. */
export function title(text, attrs = {}) {
  return h('h1', { tabindex: '-1', ...attrs }, text);
}

/** Shows err.message as the page, under heading, and in the live region. */
export function errorPage(main, err, heading = 'Something went wrong') {
  replace(main, title(heading), h('p', { class: 'error', 'data-testid': 'page-error' }, err.message));
  announce(err.message, 'error');
}

/** A loading note. */
function loading(main, text = 'Loading…') {
  replace(main, h('p', { class: 'loading', 'aria-busy': 'true' }, text));
}

/**
 * Loads what a page shows: a loading note in main, then request()'s answer.
 * On a failure the page becomes errorPage under heading (a string, or
 * heading(err)) followed by the nodes of after, and the answer is
 * undefined; undefined too once the page has been left (signal aborted).
 */
export async function loadPage(main, signal, request, { loadingText, heading, after = [] } = {}) {
  loading(main, loadingText);
  try {
    const data = await request();
    return signal.aborted ? undefined : data;
  } catch (err) {
    if (!signal.aborted) {
      errorPage(main, err, typeof heading === 'function' ? heading(err) : heading);
      main.append(...after);
    }
    return undefined;
  }
}

/**
 * A "More …" button for cursor paging, hidden on the last page: a click
 * calls load(cursor) and hands the next page's items to add.
 */
export function moreButton({ label, testid, next, load, add }) {
  let cursor = next;
  const button = h('button', {
    type: 'button', hidden: !cursor, 'data-testid': testid,
    onclick: async () => {
      button.disabled = true;
      try {
        const page = await load(cursor);
        add(page.items || []);
        cursor = page.nextCursor;
        button.hidden = !cursor;
      } catch (err) {
        announce(err.message, 'error');
      } finally {
        button.disabled = false;
      }
    },
  }, label);
  return button;
}
