// The storefront: a hash router (#/, #/products/<id>, #/cart, #/orders,
// #/orders/<id>, #/login, #/register, #/admin, #/admin/products/<id>,
// #/admin/orders, #/admin/deadletters) and the header's navigation.

import { currentUser, isAdmin, logout } from './api.js';
import { cartCount, CART_KEY } from './cart.js';
import { h, replace, announce, title, errorPage } from './ui.js';
import * as catalog from './views/catalog.js';
import * as product from './views/product.js';
import * as cart from './views/cart.js';
import * as orders from './views/orders.js';
import * as auth from './views/auth.js';
import * as admin from './views/admin.js';
import * as deadletters from './views/deadletters.js';

const routes = [
  { path: /^\/$/, view: catalog.render, nav: 'catalog' },
  { path: /^\/products\/([^/]+)$/, view: product.render, nav: 'catalog' },
  { path: /^\/cart$/, view: cart.render, nav: 'cart' },
  { path: /^\/orders$/, view: orders.renderList, nav: 'orders' },
  { path: /^\/orders\/([^/]+)$/, view: orders.renderOrder, nav: 'orders' },
  { path: /^\/login$/, view: auth.renderLogin, nav: 'login' },
  { path: /^\/register$/, view: auth.renderRegister, nav: 'register' },
  { path: /^\/admin$/, view: admin.renderProducts, nav: 'admin' },
  { path: /^\/admin\/products\/([^/]+)$/, view: admin.renderEditProduct, nav: 'admin' },
  { path: /^\/admin\/orders$/, view: admin.renderOrders, nav: 'admin' },
  { path: /^\/admin\/deadletters$/, view: deadletters.render, nav: 'admin' },
];

/** Goes to a route: navigate('/orders/123') or navigate('/', {q: 'lamp'}). */
function navigate(path, params) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString() : '';
  const target = `#${path}${q ? `?${q}` : ''}`;
  if (location.hash === target) route();
  else location.hash = target;
}

function parse() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

let current = null; // {controller, cleanups, path}
let currentNav = '';

async function route() {
  const { path, query } = parse();
  // Focus moves to the new page's heading on navigation, not on the first
  // load (where the skip link comes first).
  const pathChanged = current !== null && current.path !== path;
  if (current) {
    current.controller.abort();
    for (const fn of current.cleanups) {
      try { fn(); } catch { /* a cleanup that fails must not stop the next page */ }
    }
  }
  const state = { controller: new AbortController(), cleanups: [], path };
  current = state;
  const main = document.getElementById('main');
  const match = routes.map((r) => ({ r, m: path.match(r.path) })).find((x) => x.m);
  currentNav = match?.r.nav || '';
  renderNav();
  const ctx = {
    params: match ? match.m.slice(1).map(decodeURIComponent) : [],
    query,
    signal: state.controller.signal,
    navigate,
    onCleanup: (fn) => state.cleanups.push(fn),
    setTitle: (t) => { document.title = t ? `${t} · daprshop` : 'daprshop'; },
  };
  ctx.setTitle('');
  if (!match) {
    ctx.setTitle('Not found');
    replace(main, title('Page not found'), h('p', {}, 'There is nothing here. ', h('a', { href: '#/' }, 'Back to the catalog')));
  } else {
    try {
      await match.r.view(main, ctx);
    } catch (err) {
      if (err.name === 'AbortError' || state.controller.signal.aborted) return;
      errorPage(main, { message: err.message || String(err) });
    }
  }
  if (pathChanged && current === state) {
    const heading = main.querySelector('h1');
    if (heading) heading.focus({ preventScroll: false });
  }
}

function link(href, text, key, attrs = {}) {
  return h('li', {}, h('a', { href, 'aria-current': currentNav === key ? 'page' : null, ...attrs }, text));
}

function renderNav() {
  const nav = document.getElementById('nav');
  const user = currentUser();
  const count = cartCount();
  replace(nav,
    link('#/', 'Catalog', 'catalog', { 'data-testid': 'nav-catalog' }),
    link('#/cart', count ? `Cart (${count})` : 'Cart', 'cart', { 'data-testid': 'nav-cart', 'aria-label': `Cart, ${count} ${count === 1 ? 'item' : 'items'}` }),
    user ? link('#/orders', 'Orders', 'orders', { 'data-testid': 'nav-orders' }) : null,
    isAdmin() ? link('#/admin', 'Admin', 'admin', { 'data-testid': 'nav-admin' }) : null,
    user ? null : link('#/login', 'Log in', 'login', { 'data-testid': 'nav-login' }),
    user ? null : link('#/register', 'Register', 'register', { 'data-testid': 'nav-register' }),
    user ? h('li', { class: 'nav-user' },
      h('span', { 'data-testid': 'signed-in-as' }, `Signed in as ${user.name || user.email}`),
      h('button', {
        type: 'button',
        class: 'link-button',
        'data-testid': 'logout',
        onclick: async () => {
          await logout().catch(() => {});
          announce('You are signed out.');
          navigate('/');
        },
      }, 'Log out')) : null);
}

window.addEventListener('hashchange', () => {
  if (location.hash === '#main') return; // the skip link
  route();
});
window.addEventListener('session-change', renderNav);
window.addEventListener('cart-change', renderNav);
window.addEventListener('storage', (e) => {
  if (e.key === CART_KEY) renderNav(); // the cart changed in another tab
});

document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main').focus();
});

route();
