// The buyer's orders, and one order with its live status: polled every
// second until it is shipped (or delivered) or cancelled, with the reason.

import { ordersOf, getOrder, cancelOrder, currentUser } from '../api.js';
import { h, replace, title, money, time, announce, loadPage, moreButton } from '../ui.js';
import { needLogin } from './auth.js';

const FINAL = new Set(['shipped', 'delivered', 'cancelled']);
const CANCELLABLE = new Set(['pending', 'reserved', 'paid']);
const POLL_MS = 1000;

const LABELS = {
  pending: 'Pending',
  reserved: 'Reserved',
  paid: 'Paid',
  shipped: 'Shipped',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
};

export function statusBadge(status, attrs = {}) {
  return h('span', { class: `badge status-${status}`, 'data-status': status, ...attrs }, LABELS[status] || status);
}

function itemsOf(order) {
  const n = (order.lines || []).reduce((sum, l) => sum + l.quantity, 0);
  return n === 1 ? '1 item' : `${n} items`;
}

export async function renderList(main, ctx) {
  ctx.setTitle('Your orders');
  const user = currentUser();
  if (!user) {
    needLogin(main, 'see your orders');
    return;
  }
  const page = await loadPage(main, ctx.signal, () => ordersOf(user.id, { limit: 20 }, ctx.signal),
    { loadingText: 'Loading your orders…', heading: 'Your orders cannot be shown' });
  if (!page) return;
  if (!page.items?.length) {
    replace(main, title('Your orders'), h('p', { 'data-testid': 'no-orders' }, 'You have no orders yet. ', h('a', { href: '#/' }, 'Browse the catalog')));
    return;
  }
  const tbody = h('tbody', {}, page.items.map(orderRow));
  const more = moreButton({
    label: 'More orders', testid: 'more-orders', next: page.nextCursor,
    load: (cursor) => ordersOf(user.id, { limit: 20, cursor }),
    add: (items) => tbody.append(...items.map(orderRow)),
  });
  replace(main, title('Your orders'),
    h('p', {}, page.total === 1 ? '1 order' : `${page.total ?? page.items.length} orders`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', 'data-testid': 'orders-table' },
      h('caption', { class: 'visually-hidden' }, 'Your orders, newest first'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Order'), h('th', { scope: 'col' }, 'Placed'), h('th', { scope: 'col' }, 'Items'),
        h('th', { scope: 'col', class: 'num' }, 'Total'), h('th', { scope: 'col' }, 'Status'))),
      tbody)),
    more);
}

function orderRow(o) {
  return h('tr', { 'data-testid': 'order-row', 'data-order-id': o.id },
    h('th', { scope: 'row', 'data-label': 'Order' }, h('a', { href: `#/orders/${encodeURIComponent(o.id)}`, 'data-testid': 'order-link' }, `Order ${shortId(o.id)}`)),
    h('td', { 'data-label': 'Placed' }, time(o.createdAt)),
    h('td', { 'data-label': 'Items' }, itemsOf(o)),
    h('td', { class: 'num', 'data-label': 'Total' }, money(o.total)),
    h('td', { 'data-label': 'Status' }, statusBadge(o.status)));
}

export function shortId(id) {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** The lines of an order as a table. */
export function linesTable(order) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', 'data-testid': 'order-lines' },
    h('caption', { class: 'visually-hidden' }, 'Items of the order'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'num' }, 'Quantity'),
      h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col', class: 'num' }, 'Total'))),
    h('tbody', {}, (order.lines || []).map((l) => h('tr', { 'data-testid': 'order-line', 'data-product-id': l.productId },
      h('th', { scope: 'row', 'data-label': 'Product' }, h('a', { href: `#/products/${encodeURIComponent(l.productId)}` }, l.name || l.productId)),
      h('td', { class: 'num', 'data-label': 'Quantity' }, String(l.quantity)),
      h('td', { class: 'num', 'data-label': 'Price' }, l.unitPrice ? money(l.unitPrice) : ''),
      h('td', { class: 'num', 'data-label': 'Total' }, l.unitPrice ? money({ amount: l.unitPrice.amount * l.quantity, currency: l.unitPrice.currency }) : '')))),
    order.total ? h('tfoot', {}, h('tr', {},
      h('th', { scope: 'row', colspan: 3 }, 'Order total'),
      h('td', { class: 'num', 'data-testid': 'order-total' }, money(order.total)))) : null));
}

/** The history of an order as a list. */
export function historyList(order) {
  return h('ol', { class: 'history', 'data-testid': 'order-history' }, (order.history || []).map((e) =>
    h('li', {}, statusBadge(e.status), ' ', time(e.at), e.note ? h('span', { class: 'note' }, ` ${e.note}`) : null)));
}

export async function renderOrder(main, ctx) {
  const [id] = ctx.params;
  ctx.setTitle('Order');
  if (!currentUser()) {
    needLogin(main, 'see this order');
    return;
  }
  let order = await loadPage(main, ctx.signal, () => getOrder(id, ctx.signal), {
    loadingText: 'Loading the order…',
    heading: (err) => (err.status === 404 ? 'Order not found' : 'The order cannot be shown'),
  });
  if (!order) return;
  ctx.setTitle(`Order ${shortId(order.id)}`);

  const statusBox = h('div', { class: 'order-status' });
  const historyBox = h('section', { 'aria-labelledby': 'history-title' });
  const actions = h('div', { class: 'actions' });
  const live = h('p', { class: 'hint', 'data-testid': 'order-live' });

  let shown = null; // the status shown, to announce changes
  let cancelShown = null;

  const paint = (o) => {
    replace(statusBox,
      h('p', { class: 'status-line' }, 'Status: ', statusBadge(o.status, { 'data-testid': 'order-status' })),
      o.status === 'cancelled'
        ? h('p', { class: 'reason', 'data-testid': 'order-reason' }, `Cancelled: ${o.reason || 'no reason given'}`)
        : null,
      o.cancelRequested && o.status !== 'cancelled' ? h('p', { class: 'notice', 'data-testid': 'cancel-requested' }, 'Cancellation requested…') : null);
    replace(historyBox, h('h2', { id: 'history-title' }, 'History'), historyList(o));
    replace(live, FINAL.has(o.status) ? '' : 'This page updates every second.');
    const canCancel = CANCELLABLE.has(o.status) && !o.cancelRequested;
    if (canCancel !== cancelShown) {
      cancelShown = canCancel;
      replace(actions, canCancel ? cancelControl(o) : null);
    }
    if (shown !== null && shown !== o.status) {
      announce(o.status === 'cancelled' ? `Order cancelled: ${o.reason || 'no reason given'}` : `Order status: ${LABELS[o.status] || o.status}.`);
    }
    shown = o.status;
  };

  const cancelControl = (o) => {
    const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm the cancellation' },
      h('p', {}, 'Cancel this order? Reserved stock is released and a payment is refunded.'),
      h('button', {
        type: 'button', class: 'danger', 'data-testid': 'confirm-cancel',
        onclick: async (e) => {
          e.target.disabled = true;
          try {
            order = await cancelOrder(o.id);
            announce('Cancellation requested.');
            paint(order);
          } catch (err) {
            announce(err.message, 'error');
            e.target.disabled = false;
          }
        },
      }, 'Yes, cancel the order'),
      h('button', { type: 'button', onclick: () => { confirmBox.hidden = true; ask.hidden = false; ask.focus(); } }, 'Keep the order'));
    const ask = h('button', {
      type: 'button', class: 'danger', 'data-testid': 'cancel-order',
      onclick: () => { ask.hidden = true; confirmBox.hidden = false; confirmBox.querySelector('button').focus(); },
    }, 'Cancel order');
    return [ask, confirmBox];
  };

  replace(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/orders' }, '← Your orders')),
    h('article', { class: 'order', 'data-testid': 'order', 'data-order-id': order.id },
      title(`Order ${shortId(order.id)}`),
      h('p', { class: 'meta' }, 'Placed ', time(order.createdAt), ' · Order ID ', h('code', { 'data-testid': 'order-id' }, order.id)),
      statusBox, live, actions,
      h('section', { 'aria-labelledby': 'items-title' }, h('h2', { id: 'items-title' }, 'Items'), linesTable(order)),
      h('p', {}, 'Payment method: ', h('code', {}, order.paymentMethod)),
      historyBox));
  paint(order);

  // Polling: one request at a time, every second, until a final status.
  let timer = null;
  let failures = 0;
  const schedule = () => {
    if (!FINAL.has(order.status) && !ctx.signal.aborted) timer = setTimeout(poll, POLL_MS);
  };
  const poll = async () => {
    try {
      const o = await getOrder(id, ctx.signal);
      if (ctx.signal.aborted) return;
      failures = 0;
      order = o;
      paint(o);
    } catch (err) {
      if (ctx.signal.aborted) return;
      failures += 1;
      if (failures === 3) announce(`The status cannot be updated: ${err.message}`, 'error');
    }
    schedule();
  };
  ctx.onCleanup(() => clearTimeout(timer));
  schedule();
}
