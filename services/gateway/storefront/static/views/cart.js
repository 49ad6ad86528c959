// The cart and the checkout. One submission of the cart is one
// Idempotency-Key: a retry after an error or a lost answer sends the same
// key, so it cannot place a second order.

import { placeOrder, currentUser } from '../api.js';
import { getCart, setQuantity, removeLine, clearCart, totals, checkoutKey, MAX_QUANTITY } from '../cart.js';
import { h, replace, field, title, money, showProblem, clearProblem, busy, announce, nextId } from '../ui.js';

const PAYMENT_METHODS = [
  { value: 'tok_visa', label: 'Visa test card (approved)' },
  { value: 'tok_mastercard', label: 'Mastercard test card (approved)' },
  { value: 'tok_transient', label: 'Flaky test card (approved after retries)' },
  { value: 'tok_decline', label: 'Declining test card (declined)' },
];

export async function render(main, ctx) {
  ctx.setTitle('Cart');
  const cart = getCart();
  if (!cart.lines.length) {
    replace(main, title('Your cart'),
      h('p', { 'data-testid': 'cart-empty' }, 'Your cart is empty. ', h('a', { href: '#/' }, 'Browse the catalog')));
    return;
  }

  const totalsBox = h('div', { class: 'totals', 'data-testid': 'cart-totals' });
  const showTotals = () => {
    const t = totals(getCart().lines);
    replace(totalsBox,
      h('p', {}, 'Total: ', h('strong', { 'data-testid': 'cart-total' }, t.map(money).join(' + '))),
      t.length > 1 ? h('p', { class: 'error', 'data-testid': 'mixed-currencies' }, 'An order takes one currency: remove the items priced in another.') : null);
    return t.length <= 1;
  };

  const rows = cart.lines.map((line, i) => {
    const qid = nextId('qty');
    const lineTotal = h('td', { class: 'num', 'data-label': 'Total', 'data-testid': 'line-total' }, money({ amount: line.price.amount * line.quantity, currency: line.price.currency }));
    const qty = h('input', {
      id: qid, name: `quantity-${line.productId}`, type: 'number', min: 1, max: MAX_QUANTITY, step: 1, inputmode: 'numeric',
      value: String(line.quantity), 'data-testid': 'cart-quantity', 'data-field': `lines[${i}].quantity lines[${i}].productId lines[${i}]`,
    });
    qty.addEventListener('change', () => {
      setQuantity(line.productId, qty.value);
      const now = getCart().lines.find((l) => l.productId === line.productId);
      if (!now) return;
      qty.value = String(now.quantity);
      replace(lineTotal, money({ amount: now.price.amount * now.quantity, currency: now.price.currency }));
      showTotals();
    });
    return h('tr', { 'data-testid': 'cart-line', 'data-product-id': line.productId },
      h('th', { scope: 'row', 'data-label': 'Product' }, h('a', { href: `#/products/${encodeURIComponent(line.productId)}` }, line.name)),
      h('td', { class: 'num', 'data-label': 'Price' }, money(line.price)),
      h('td', { 'data-label': 'Quantity' },
        h('label', { for: qid, class: 'visually-hidden' }, `Quantity of ${line.name}`), qty),
      lineTotal,
      h('td', { 'data-label': '' }, h('button', {
        type: 'button', class: 'link-button danger', 'aria-label': `Remove ${line.name}`, 'data-testid': 'cart-remove',
        onclick: () => {
          removeLine(line.productId);
          announce(`${line.name} removed from the cart.`);
          render(main, ctx).then(() => main.querySelector('h1')?.focus());
        },
      }, 'Remove')));
  });

  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'cart-table responsive', 'data-testid': 'cart-table' },
    h('caption', { class: 'visually-hidden' }, 'Items in your cart'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'num' }, 'Price'),
      h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col', class: 'num' }, 'Total'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, rows)));

  const user = currentUser();
  let checkout;
  if (!user) {
    checkout = h('p', { 'data-testid': 'checkout-login' },
      h('a', { href: `#/login?next=${encodeURIComponent('/cart')}` }, 'Log in'), ' or ',
      h('a', { href: `#/register?next=${encodeURIComponent('/cart')}` }, 'create an account'), ' to check out.');
  } else {
    checkout = h('form', { class: 'form checkout', novalidate: true, 'data-testid': 'checkout-form', 'aria-labelledby': 'checkout-title' },
      h('h2', { id: 'checkout-title' }, 'Checkout'),
      field({ label: 'Payment method', name: 'paymentMethod', tag: 'select', value: 'tok_visa', options: PAYMENT_METHODS, 'data-testid': 'payment-method' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'place-order' }, 'Place order')));
    checkout.addEventListener('submit', async (e) => {
      e.preventDefault();
      const page = main.querySelector('.cart-page');
      clearProblem(page);
      if (!showTotals()) {
        announce('An order takes one currency.', 'error');
        return;
      }
      const lines = getCart().lines.map((l) => ({ productId: l.productId, quantity: l.quantity }));
      const paymentMethod = checkout.elements.paymentMethod.value;
      const key = checkoutKey(lines, paymentMethod);
      try {
        const res = await busy(page, () => placeOrder({ lines, paymentMethod }, key));
        const order = res.data;
        clearCart();
        announce(res.headers.get('Idempotent-Replayed') ? 'This order was already placed.' : 'Thank you: your order is placed.');
        ctx.navigate(`/orders/${encodeURIComponent(order.id)}`);
      } catch (err) {
        // The key stays: placing the same cart again cannot order twice.
        showProblem(page, err);
        const summary = page.querySelector('.form-error');
        if (err.status === 401) {
          summary?.append(h('p', {}, h('a', { href: `#/login?next=${encodeURIComponent('/cart')}` }, 'Log in again')));
        } else {
          summary?.append(h('p', { class: 'hint', 'data-testid': 'retry-note' }, 'You can try again: the same cart is never ordered twice.'));
        }
        summary?.focus();
      }
    });
  }

  const wrapper = h('form', { class: 'cart', novalidate: true, 'aria-label': 'Cart items' }, table);
  wrapper.addEventListener('submit', (e) => e.preventDefault());
  replace(main, title('Your cart'), h('div', { class: 'cart-page' }, wrapper, totalsBox, checkout));
  showTotals();
}
