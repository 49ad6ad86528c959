// The back office (admins): products (add, edit price and stock, delete),
// orders (look up by ID or by buyer, change the status, see the payment).
// Dead letters are in deadletters.js.

import {
  listProducts, getProduct, createProduct, updateProduct, deleteProduct,
  getOrder, setOrderStatus, ordersOf, getPayment, currentUser, isAdmin,
} from '../api.js';
import { h, replace, field, title, money, toMinor, toMajor, time, showProblem, clearProblem, busy, announce, loadPage } from '../ui.js';
import { needLogin } from './auth.js';
import { statusBadge, linesTable, historyList, shortId } from './orders.js';

/** The admin pages' own navigation. */
export function adminNav(current) {
  const item = (href, text, key) => h('li', {}, h('a', { href, 'aria-current': current === key ? 'page' : null }, text));
  return h('nav', { class: 'subnav', 'aria-label': 'Back office' }, h('ul', {},
    item('#/admin', 'Products', 'products'),
    item('#/admin/orders', 'Orders', 'orders'),
    item('#/admin/deadletters', 'Dead letters', 'deadletters')));
}

/** false (and a message shown) unless an admin is signed in. */
export function guard(main) {
  if (!currentUser()) {
    needLogin(main, 'use the back office');
    return false;
  }
  if (!isAdmin()) {
    replace(main, title('Admins only'), h('p', { 'data-testid': 'admins-only' }, 'The back office is for administrators.'));
    return false;
  }
  return true;
}

// --- products --------------------------------------------------------------

function productFields(p = {}, { create = false } = {}) {
  const currency = p.price?.currency || 'EUR';
  return [
    field({ label: 'Name', name: 'name', required: true, maxlength: 200, value: p.name || '', 'data-testid': 'product-name-input' }),
    field({ label: 'Description', name: 'description', tag: 'textarea', rows: 3, maxlength: 2000, value: p.description || '', 'data-testid': 'product-description-input' }),
    field({ label: 'Category', name: 'category', required: true, maxlength: 50, value: p.category || '', 'data-testid': 'product-category-input' }),
    h('div', { class: 'field-row' },
      field({ label: 'Price', name: 'price', inputmode: 'decimal', required: true, value: p.price ? toMajor(p.price.amount, currency) : '', hint: 'In the currency\'s main unit, e.g. 12.50', 'data-field': 'price price.amount', 'data-testid': 'product-price-input' }),
      field({ label: 'Currency', name: 'currency', required: true, maxlength: 3, value: currency, 'data-field': 'price.currency', 'data-testid': 'product-currency-input' })),
    field({ label: create ? 'Stock' : 'Available stock', name: 'stock', type: 'number', min: 0, max: 1000000, step: 1, inputmode: 'numeric', required: create, value: p.available !== undefined ? String(p.available) : '', 'data-testid': 'product-stock-input' }),
  ];
}

/** The request body of a product form, or field errors. */
function productBody(form, { create, stockWas } = {}) {
  const data = new FormData(form);
  const currency = String(data.get('currency') || '').trim().toUpperCase();
  const amount = toMinor(String(data.get('price') || ''), currency || 'EUR');
  const errors = [];
  if (Number.isNaN(amount)) errors.push({ field: 'price', message: 'Enter a price such as 12.50.' });
  const stockText = String(data.get('stock') || '').trim();
  let stock;
  if (stockText !== '') {
    stock = Number(stockText);
    if (!Number.isInteger(stock) || stock < 0) errors.push({ field: 'stock', message: 'Enter a whole number, 0 or more.' });
  } else if (create) {
    errors.push({ field: 'stock', message: 'Enter the stock.' });
  }
  const body = {
    name: String(data.get('name') || '').trim(),
    description: String(data.get('description') || '').trim(),
    category: String(data.get('category') || '').trim(),
    price: { amount, currency },
  };
  // On an edit the stock is sent only when changed: the available stock
  // moves with every order, and an unchanged field would overwrite it.
  if (stock !== undefined && (create || String(stock) !== String(stockWas))) body.stock = stock;
  return { body, errors };
}

export async function renderProducts(main, ctx) {
  ctx.setTitle('Back office: products');
  if (!guard(main)) return;

  const created = h('div', { 'data-testid': 'created' });
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'product-create-form', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Add a product'),
    productFields({}, { create: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'create-product' }, 'Add product')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const { body, errors } = productBody(form, { create: true });
    if (errors.length) {
      showProblem(form, { message: 'Check the product.', fieldErrors: errors });
      return;
    }
    try {
      const p = await busy(form, () => createProduct(body));
      announce(`Added ${p.name}.`);
      replace(created, h('p', { class: 'notice', 'data-testid': 'created-product', 'data-product-id': p.id },
        'Added ', h('a', { href: `#/products/${encodeURIComponent(p.id)}` }, p.name), ` (${money(p.price)}, ${p.available} in stock). `,
        h('a', { href: `#/admin/products/${encodeURIComponent(p.id)}` }, 'Edit')));
      form.reset();
      form.elements.currency.value = body.price.currency;
      form.elements.name.focus();
      loadList();
    } catch (err) {
      showProblem(form, err);
      form.querySelector('.form-error')?.focus();
    }
  });

  // The list: search and cursor paging.
  const q = ctx.query.get('q') || '';
  const search = h('form', { class: 'search-row', role: 'search', 'aria-label': 'Find products' },
    field({ label: 'Find products', name: 'q', type: 'search', value: q, 'data-testid': 'admin-search-input' }),
    h('button', { type: 'submit' }, 'Find'));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate('/admin', { q: search.elements.q.value.trim() });
  });
  const list = h('div', { 'data-testid': 'admin-products', 'aria-live': 'off' });
  const cursors = [undefined];
  let page = 0;

  const loadList = async () => {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await listProducts({ q, sort: 'newest', limit: 20, cursor: cursors[page] }, ctx.signal);
      if (ctx.signal.aborted) return;
      if (data.nextCursor) cursors[page + 1] = data.nextCursor;
      replace(list,
        h('p', {}, `${data.total} products`),
        h('div', { class: 'table-wrap' }, h('table', { class: 'responsive' },
          h('caption', { class: 'visually-hidden' }, 'Products, newest first'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Category'), h('th', { scope: 'col', class: 'num' }, 'Price'),
            h('th', { scope: 'col' }, 'Stock'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h('tbody', {}, (data.items || []).map((p) => productRow(p, loadList))))),
        h('nav', { class: 'pager', 'aria-label': 'Product pages' },
          h('button', { type: 'button', disabled: page === 0, onclick: () => { page -= 1; loadList(); } }, 'Previous page'),
          h('span', {}, `Page ${page + 1}`),
          h('button', { type: 'button', disabled: !data.nextCursor, onclick: () => { page += 1; loadList(); } }, 'Next page')));
    } catch (err) {
      if (ctx.signal.aborted) return;
      replace(list, h('p', { class: 'error' }, err.message));
    } finally {
      list.removeAttribute('aria-busy');
    }
  };

  replace(main, title('Back office'), adminNav('products'), created, form,
    h('section', { 'aria-labelledby': 'list-title' }, h('h2', { id: 'list-title' }, 'Products'), search, list));
  await loadList();
}

function productRow(p, reload) {
  const error = h('p', { class: 'field-error', hidden: true });
  return h('tr', { 'data-testid': 'admin-product-row', 'data-product-id': p.id },
    h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: `#/products/${encodeURIComponent(p.id)}` }, p.name)),
    h('td', { 'data-label': 'Category' }, p.category),
    h('td', { class: 'num', 'data-label': 'Price' }, money(p.price)),
    h('td', { 'data-label': 'Stock' }, p.inStock ? 'In stock' : 'Out of stock'),
    h('td', { 'data-label': '' },
      h('a', { href: `#/admin/products/${encodeURIComponent(p.id)}`, class: 'button-link', 'aria-label': `Edit ${p.name}` }, 'Edit'), ' ',
      deleteControl(p, reload, error),
      error));
}

/** A Delete button that asks once more before deleting. */
function deleteControl(p, done, error) {
  const wrap = h('span', { class: 'delete-control' });
  const ask = h('button', {
    type: 'button', class: 'danger', 'aria-label': `Delete ${p.name}`, 'data-testid': 'delete-product',
    onclick: () => { ask.hidden = true; sure.hidden = false; no.hidden = false; sure.focus(); },
  }, 'Delete');
  const sure = h('button', {
    type: 'button', class: 'danger', hidden: true, 'data-testid': 'confirm-delete',
    onclick: async () => {
      sure.disabled = true;
      error.hidden = true;
      try {
        await deleteProduct(p.id);
        announce(`Deleted ${p.name}.`);
        await done();
      } catch (err) {
        replace(error, err.message);
        error.hidden = false;
        announce(err.message, 'error');
        sure.disabled = false;
      }
    },
  }, `Yes, delete ${p.name}`);
  const no = h('button', { type: 'button', hidden: true, onclick: () => { sure.hidden = true; no.hidden = true; ask.hidden = false; ask.focus(); } }, 'Keep it');
  wrap.append(ask, sure, no);
  return wrap;
}

export async function renderEditProduct(main, ctx) {
  const [id] = ctx.params;
  ctx.setTitle('Back office: edit product');
  if (!guard(main)) return;
  let p = await loadPage(main, ctx.signal, () => getProduct(id, ctx.signal),
    { heading: 'The product cannot be edited', after: [adminNav('products')] });
  if (!p) return;

  const info = h('p', { class: 'meta', 'data-testid': 'product-version' });
  const showInfo = () => replace(info, `Version ${p.version} · updated `, time(p.updatedAt), ` · ${p.available} available`);
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'product-edit-form', 'aria-labelledby': 'edit-title' },
    productFields(p),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'save-product' }, 'Save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const { body, errors } = productBody(form, { create: false, stockWas: p.available });
    if (errors.length) {
      showProblem(form, { message: 'Check the product.', fieldErrors: errors });
      return;
    }
    try {
      p = await busy(form, () => updateProduct(p.id, body));
      form.elements.stock.value = String(p.available);
      showInfo();
      announce(`Saved ${p.name}.`);
    } catch (err) {
      showProblem(form, err);
      form.querySelector('.form-error')?.focus();
    }
  });
  const error = h('p', { class: 'field-error', hidden: true });
  replace(main, title(`Edit ${p.name}`, { id: 'edit-title' }), adminNav('products'), info, form,
    h('section', { 'aria-label': 'Delete the product' }, deleteControl(p, () => ctx.navigate('/admin'), error), error));
  showInfo();
}

// --- orders ----------------------------------------------------------------

export async function renderOrders(main, ctx) {
  ctx.setTitle('Back office: orders');
  if (!guard(main)) return;
  const id = ctx.query.get('id') || '';
  const userId = ctx.query.get('user') || '';

  const byId = h('form', { class: 'search-row', 'aria-label': 'Find an order', 'data-testid': 'order-lookup' },
    field({ label: 'Order ID', name: 'id', value: id, required: true, 'data-testid': 'order-id-input' }),
    h('button', { type: 'submit', class: 'primary' }, 'Find order'));
  byId.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate('/admin/orders', { id: byId.elements.id.value.trim() });
  });
  const byUser = h('form', { class: 'search-row', 'aria-label': 'Find the orders of a buyer' },
    field({ label: 'Buyer\'s user ID', name: 'user', value: userId }),
    h('button', { type: 'submit' }, 'Show the buyer\'s orders'));
  byUser.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate('/admin/orders', { user: byUser.elements.user.value.trim() });
  });
  const result = h('div', { 'data-testid': 'admin-order-result' });
  replace(main, title('Back office'), adminNav('orders'), h('h2', {}, 'Orders'), byId, byUser, result);

  if (id) await showOrder(result, id, ctx);
  else if (userId) await showUserOrders(result, userId, ctx);
}

async function showUserOrders(box, userId, ctx) {
  try {
    const page = await ordersOf(userId, { limit: 50 }, ctx.signal);
    if (ctx.signal.aborted) return;
    replace(box, h('h3', {}, `Orders of ${userId}`),
      page.items?.length ? h('ul', { class: 'plain' }, page.items.map((o) => h('li', {},
        h('a', { href: `#/admin/orders?id=${encodeURIComponent(o.id)}` }, `Order ${shortId(o.id)}`), ' ',
        statusBadge(o.status), ' ', money(o.total), ' · ', time(o.createdAt))))
        : h('p', {}, 'No orders.'));
  } catch (err) {
    if (!ctx.signal.aborted) replace(box, h('p', { class: 'error' }, err.message));
  }
}

async function showOrder(box, id, ctx) {
  let order;
  try {
    order = await getOrder(id, ctx.signal);
  } catch (err) {
    if (!ctx.signal.aborted) {
      replace(box, h('p', { class: 'error', 'data-testid': 'admin-order-error' }, err.message));
      announce(err.message, 'error');
    }
    return;
  }
  if (ctx.signal.aborted) return;

  const statusForm = h('form', { class: 'search-row', novalidate: true, 'aria-label': 'Change the status', 'data-testid': 'order-status-form' },
    field({
      label: 'New status', name: 'status', tag: 'select', value: 'shipped',
      options: [{ value: 'shipped', label: 'Shipped' }, { value: 'delivered', label: 'Delivered' }, { value: 'cancelled', label: 'Cancelled' }],
    }),
    h('button', { type: 'submit', class: 'primary' }, 'Update status'));
  const payment = h('div', { 'data-testid': 'payment' });
  const paint = () => replace(box,
    h('article', { class: 'order', 'data-testid': 'admin-order', 'data-order-id': order.id },
      h('h3', {}, `Order ${order.id}`),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Status'), h('dd', {}, statusBadge(order.status, { 'data-testid': 'admin-order-status' }),
          order.cancelRequested && order.status !== 'cancelled' ? ' (cancellation requested)' : ''),
        order.reason ? [h('dt', {}, 'Reason'), h('dd', { 'data-testid': 'admin-order-reason' }, order.reason)] : null,
        h('dt', {}, 'Buyer'), h('dd', {}, order.email ? `${order.email} ` : '',
          h('a', { href: `#/admin/orders?user=${encodeURIComponent(order.userId)}` }, h('code', {}, order.userId))),
        h('dt', {}, 'Placed'), h('dd', {}, time(order.createdAt)),
        h('dt', {}, 'Payment method'), h('dd', {}, h('code', {}, order.paymentMethod)),
        order.paymentId ? [h('dt', {}, 'Payment'), h('dd', {}, h('code', {}, order.paymentId), ' ',
          h('button', { type: 'button', 'data-testid': 'show-payment', onclick: () => showPayment(payment, order.paymentId) }, 'Show payment'))] : null),
      payment,
      linesTable(order),
      h('h4', {}, 'History'),
      historyList(order),
      statusForm));
  statusForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(statusForm);
    try {
      order = await busy(statusForm, () => setOrderStatus(order.id, statusForm.elements.status.value));
      announce(`Order ${shortId(order.id)}: ${order.status}.`);
      paint();
    } catch (err) {
      showProblem(statusForm, err);
    }
  });
  paint();
}

async function showPayment(box, id) {
  try {
    const p = await getPayment(id);
    const rows = [];
    for (const [k, v] of Object.entries(p)) {
      let value = v;
      if (v && typeof v === 'object' && 'amount' in v && 'currency' in v) value = money(v);
      else if (v && typeof v === 'object') value = JSON.stringify(v);
      rows.push(h('dt', {}, k), h('dd', {}, String(value)));
    }
    replace(box, h('h4', {}, 'Payment'), h('dl', { class: 'facts', 'data-testid': 'payment-facts' }, rows));
  } catch (err) {
    replace(box, h('p', { class: 'error' }, err.message));
    announce(err.message, 'error');
  }
}
