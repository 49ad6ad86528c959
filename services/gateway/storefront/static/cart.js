// The cart, kept in localStorage: lines with the name and price seen when
// added (the order service prices the order itself), and the
// Idempotency-Key of the submission in progress.

export const CART_KEY = 'daprshop.cart';
export const MAX_QUANTITY = 99;

function empty() {
  return { lines: [], checkout: null };
}

export function getCart() {
  try {
    const cart = JSON.parse(localStorage.getItem(CART_KEY));
    if (cart && Array.isArray(cart.lines)) return cart;
  } catch {
    // a damaged cart starts again empty
  }
  return empty();
}

function save(cart) {
  localStorage.setItem(CART_KEY, JSON.stringify(cart));
  window.dispatchEvent(new CustomEvent('cart-change'));
}

/** The number of items in the cart. */
export function cartCount() {
  return getCart().lines.reduce((n, l) => n + l.quantity, 0);
}

function clamp(q) {
  const n = Math.floor(Number(q));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, MAX_QUANTITY);
}

/** Adds quantity of a product ({id, name, price}). */
export function addToCart(product, quantity = 1) {
  const cart = getCart();
  const line = cart.lines.find((l) => l.productId === product.id);
  if (line) {
    line.quantity = clamp(line.quantity + quantity);
    line.name = product.name;
    line.price = product.price;
  } else {
    cart.lines.push({ productId: product.id, name: product.name, price: product.price, quantity: clamp(quantity) });
  }
  save(cart);
}

export function setQuantity(productId, quantity) {
  const cart = getCart();
  const line = cart.lines.find((l) => l.productId === productId);
  if (!line) return;
  line.quantity = clamp(quantity);
  save(cart);
}

export function removeLine(productId) {
  const cart = getCart();
  cart.lines = cart.lines.filter((l) => l.productId !== productId);
  save(cart);
}

export function clearCart() {
  save(empty());
}

/** Totals by currency: [{amount, currency}]. */
export function totals(lines) {
  const by = new Map();
  for (const l of lines) {
    const c = l.price?.currency || '';
    by.set(c, (by.get(c) || 0) + (l.price?.amount || 0) * l.quantity);
  }
  return [...by].map(([currency, amount]) => ({ amount, currency }));
}

/** A random UUID, also where crypto.randomUUID is missing (plain http on a non-local host). */
function uuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The Idempotency-Key of this submission: the same key as long as the
 * lines and the payment method are the same (a retry after a failure or a
 * lost answer cannot order twice), a new one for a changed cart.
 */
export function checkoutKey(lines, paymentMethod) {
  const cart = getCart();
  const fingerprint = JSON.stringify([lines.map((l) => [l.productId, l.quantity]), paymentMethod]);
  if (cart.checkout?.fingerprint === fingerprint && cart.checkout.key) return cart.checkout.key;
  cart.checkout = { key: uuid(), fingerprint };
  localStorage.setItem(CART_KEY, JSON.stringify(cart)); // not save(): the lines are unchanged, no cart-change
  return cart.checkout.key;
}
