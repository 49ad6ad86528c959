// The catalog: search, filters (category, currency, price range, in stock),
// sort and cursor paging, all kept in the hash (#/?q=lamp&inStock=1&page=2)
// so that the back button and a reload show the same page.

import { listProducts } from '../api.js';
import { addToCart } from '../cart.js';
import { h, replace, field, title, money, toMinor, showProblem, clearProblem, announce } from '../ui.js';

const FILTERS = ['q', 'category', 'currency', 'minPrice', 'maxPrice', 'inStock', 'sort', 'limit'];
const SORTS = [
  { value: '', label: 'Name' },
  { value: 'price', label: 'Price, low to high' },
  { value: '-price', label: 'Price, high to low' },
  { value: 'newest', label: 'Newest' },
];
const LIMITS = ['12', '24', '48', '96'];

// The cursors of the pages seen for one set of filters: cursors[n-1] opens page n.
let paging = { key: '', cursors: [undefined] };

function filtersOf(query) {
  const f = {};
  for (const k of FILTERS) f[k] = query.get(k) || '';
  return f;
}

export async function render(main, ctx) {
  ctx.setTitle('Catalog');
  const f = filtersOf(ctx.query);
  const key = JSON.stringify(f);
  if (paging.key !== key) paging = { key, cursors: [undefined] };
  let page = Math.max(1, Number.parseInt(ctx.query.get('page') || '1', 10) || 1);
  if (page > paging.cursors.length) page = 1;

  const form = h('form', { class: 'filters', role: 'search', novalidate: true, 'data-testid': 'catalog-search', 'aria-label': 'Search the catalog' },
    h('div', { class: 'search-row' },
      field({ label: 'Search', name: 'q', type: 'search', value: f.q, placeholder: 'lamp, oak, kitchen…', 'data-testid': 'search-input' }),
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'search-button' }, 'Search')),
    h('details', { class: 'more-filters', open: ['category', 'currency', 'minPrice', 'maxPrice', 'inStock'].some((k) => f[k]) || null },
      h('summary', {}, 'Filters and sorting'),
      h('div', { class: 'filter-grid' },
        field({ label: 'Category', name: 'category', value: f.category, placeholder: 'e.g. kitchen' }),
        field({ label: 'Currency', name: 'currency', value: f.currency, placeholder: 'e.g. EUR', maxlength: 3, autocapitalize: 'characters' }),
        field({ label: 'Min price', name: 'minPrice', type: 'text', inputmode: 'decimal', value: f.minPrice }),
        field({ label: 'Max price', name: 'maxPrice', type: 'text', inputmode: 'decimal', value: f.maxPrice }),
        field({ label: 'Sort by', name: 'sort', tag: 'select', value: f.sort, options: SORTS }),
        field({ label: 'Per page', name: 'limit', tag: 'select', value: f.limit || '12', options: LIMITS.map((l) => ({ value: l, label: l })) }),
        h('div', { class: 'field checkbox' },
          h('input', { type: 'checkbox', id: 'filter-instock', name: 'inStock', value: '1', checked: f.inStock === '1' || f.inStock === 'true' }),
          h('label', { for: 'filter-instock' }, 'In stock only'))),
      h('div', { class: 'actions' },
        h('button', { type: 'submit' }, 'Apply filters'),
        h('button', { type: 'button', onclick: () => ctx.navigate('/') }, 'Clear'))));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearProblem(form);
    const data = new FormData(form);
    const next = {};
    for (const k of FILTERS) next[k] = String(data.get(k) || '').trim();
    if (next.currency) next.currency = next.currency.toUpperCase();
    const bad = [];
    for (const k of ['minPrice', 'maxPrice']) {
      if (next[k] && Number.isNaN(toMinor(next[k], next.currency || 'EUR'))) bad.push({ field: k, message: 'Enter an amount such as 12.50.' });
    }
    if (bad.length) {
      showProblem(form, { message: 'Check the filters.', fieldErrors: bad });
      return;
    }
    if (next.limit === '12') next.limit = '';
    ctx.navigate('/', next);
  });

  const resultsTitle = h('h2', { id: 'results-title', class: 'visually-hidden' }, 'Results');
  const results = h('section', { class: 'results', 'aria-labelledby': 'results-title', 'aria-busy': 'true', 'data-testid': 'results' },
    resultsTitle, h('p', { class: 'loading' }, 'Loading products…'));
  replace(main, title('Catalog'), form, results);

  const currency = f.currency.toUpperCase(); // none: toMinor counts in EUR's minor unit
  const params = {
    q: f.q,
    category: f.category,
    currency,
    minPrice: f.minPrice ? toMinor(f.minPrice, currency) : '',
    maxPrice: f.maxPrice ? toMinor(f.maxPrice, currency) : '',
    inStock: f.inStock ? 'true' : '',
    sort: f.sort,
    limit: f.limit || '12',
    cursor: paging.cursors[page - 1],
  };
  let data;
  try {
    data = await listProducts(params, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) return;
    results.removeAttribute('aria-busy');
    if (err.fieldErrors?.length) showProblem(form, err);
    replace(results, resultsTitle, h('p', { class: 'error', 'data-testid': 'catalog-error' }, err.message));
    announce(err.message, 'error');
    return;
  }
  if (ctx.signal.aborted) return;
  if (data.nextCursor) paging.cursors[page] = data.nextCursor;

  const items = data.items || [];
  const total = data.total ?? items.length;
  const pageNav = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', {
      type: 'button', disabled: page <= 1, 'data-testid': 'prev-page',
      onclick: () => ctx.navigate('/', { ...f, page: page - 1 > 1 ? String(page - 1) : '' }),
    }, 'Previous page'),
    h('span', { 'data-testid': 'page-number' }, `Page ${page}`),
    h('button', {
      type: 'button', disabled: !data.nextCursor, 'data-testid': 'next-page',
      onclick: () => ctx.navigate('/', { ...f, page: String(page + 1) }),
    }, 'Next page'));

  results.removeAttribute('aria-busy');
  replace(results,
    resultsTitle,
    h('p', { class: 'result-count', 'data-testid': 'result-count' },
      total === 1 ? '1 product' : `${total} products`, f.q ? ` for “${f.q}”` : ''),
    items.length
      ? h('ul', { class: 'product-grid', 'data-testid': 'product-list' }, items.map(card))
      : h('p', { 'data-testid': 'no-results' }, 'No product matches. Try other words or fewer filters.'),
    (page > 1 || data.nextCursor) ? pageNav : null);
  announce(`${total === 1 ? '1 product' : `${total} products`} found.`);
}

function card(p) {
  return h('li', { class: 'card', 'data-testid': 'product-card', 'data-product-id': p.id },
    h('article', {},
      h('h3', { class: 'card-title' }, h('a', { href: `#/products/${encodeURIComponent(p.id)}`, 'data-testid': 'product-link' }, p.name)),
      h('p', { class: 'category' }, p.category),
      h('p', { class: 'description' }, p.description),
      h('p', { class: 'price', 'data-testid': 'price' }, money(p.price)),
      h('p', { class: p.inStock ? 'stock in' : 'stock out' }, p.inStock ? 'In stock' : 'Out of stock'),
      h('button', {
        type: 'button',
        class: 'primary',
        disabled: !p.inStock,
        'aria-label': `Add ${p.name} to cart`,
        'data-testid': 'add-to-cart',
        onclick: () => {
          addToCart(p, 1);
          announce(`${p.name} added to the cart.`);
        },
      }, 'Add to cart')));
}
