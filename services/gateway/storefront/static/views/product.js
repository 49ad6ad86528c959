// A product: price, available stock, add to cart, and its reviews with a
// form for a signed-in buyer (the API refuses, 403, a buyer who has not
// received the product; the page shows its reason).

import { getProduct, listReviews, putMyReview, deleteMyReview, currentUser } from '../api.js';
import { addToCart, MAX_QUANTITY } from '../cart.js';
import { h, replace, field, title, money, time, showProblem, clearProblem, busy, announce, loadPage, moreButton } from '../ui.js';

const RATINGS = [
  { value: '5', label: '5 stars: excellent' },
  { value: '4', label: '4 stars: good' },
  { value: '3', label: '3 stars: fair' },
  { value: '2', label: '2 stars: poor' },
  { value: '1', label: '1 star: bad' },
];

export async function render(main, ctx) {
  const [id] = ctx.params;
  ctx.setTitle('Product');
  const p = await loadPage(main, ctx.signal, () => getProduct(id, ctx.signal), {
    loadingText: 'Loading the product…',
    heading: (err) => (err.status === 404 ? 'Product not found' : 'The product cannot be shown'),
    after: [h('p', {}, h('a', { href: '#/' }, 'Back to the catalog'))],
  });
  if (!p) return;
  ctx.setTitle(p.name);

  const max = Math.max(1, Math.min(p.available, MAX_QUANTITY));
  const buy = h('form', { class: 'buy', novalidate: true, 'data-testid': 'buy-form', 'aria-label': `Buy ${p.name}` },
    field({ label: 'Quantity', name: 'quantity', type: 'number', min: 1, max, step: 1, value: '1', inputmode: 'numeric', disabled: !p.inStock, 'data-testid': 'quantity' }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', disabled: !p.inStock, 'data-testid': 'add-to-cart' }, 'Add to cart'),
      h('a', { href: '#/cart', class: 'button-link' }, 'Go to cart')));
  buy.addEventListener('submit', (e) => {
    e.preventDefault();
    clearProblem(buy);
    const q = Number.parseInt(buy.elements.quantity.value, 10);
    if (!Number.isInteger(q) || q < 1 || q > max) {
      showProblem(buy, { message: 'Check the quantity.', fieldErrors: [{ field: 'quantity', message: `Choose between 1 and ${max}.` }] });
      return;
    }
    addToCart({ id: p.id, name: p.name, price: p.price }, q);
    announce(`${q} × ${p.name} added to the cart.`);
  });

  const reviews = h('section', { class: 'reviews', 'aria-labelledby': 'reviews-title', 'data-testid': 'reviews' },
    h('h2', { id: 'reviews-title' }, 'Reviews'),
    h('p', { class: 'loading' }, 'Loading reviews…'));

  replace(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/' }, '← Catalog')),
    h('article', { class: 'product', 'data-testid': 'product', 'data-product-id': p.id },
      title(p.name, { 'data-testid': 'product-name' }),
      h('p', { class: 'category' }, h('a', { href: `#/?category=${encodeURIComponent(p.category)}` }, p.category)),
      h('p', { class: 'price big', 'data-testid': 'product-price' }, money(p.price)),
      h('p', { class: p.inStock ? 'stock in' : 'stock out', 'data-testid': 'product-stock', 'data-available': p.available },
        p.inStock ? `${p.available} in stock` : 'Out of stock'),
      h('p', { class: 'description' }, p.description),
      buy),
    reviews);

  await renderReviews(reviews, p, ctx);
}

function stars(rating) {
  const r = Math.max(0, Math.min(5, Math.round(rating)));
  return h('span', { class: 'stars' },
    h('span', { 'aria-hidden': 'true' }, '★'.repeat(r) + '☆'.repeat(5 - r)),
    h('span', { class: 'visually-hidden' }, `Rated ${rating} out of 5`));
}

function reviewItem(r, me) {
  return h('li', { class: 'review', 'data-testid': 'review', 'data-user-id': r.userId },
    h('article', {},
      h('h3', { class: 'review-title' }, r.title || 'Untitled'),
      h('p', { class: 'review-meta' }, stars(r.rating), ' ',
        h('span', { 'data-testid': 'review-rating', 'data-rating': r.rating }, `${r.rating}/5`), ' · ',
        h('span', {}, r.author || 'A buyer'), me && r.userId === me.id ? ' (you)' : '', ' · ', time(r.updatedAt || r.createdAt)),
      r.body ? h('p', { class: 'review-body' }, r.body) : null));
}

async function renderReviews(section, p, ctx) {
  const me = currentUser();
  let first;
  try {
    first = await listReviews(p.id, { limit: 10 }, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) return;
    replace(section, h('h2', { id: 'reviews-title' }, 'Reviews'),
      h('p', { class: 'error', 'data-testid': 'reviews-error' }, err.status === 404 ? 'Reviews are not available.' : err.message));
    return;
  }
  if (ctx.signal.aborted) return;

  const items = first.items || [];
  const list = h('ul', { class: 'review-list', 'data-testid': 'review-list' }, items.map((r) => reviewItem(r, me)));
  const count = first.total ?? items.length;
  const summary = h('p', { class: 'review-summary', 'data-testid': 'review-summary' },
    count ? [stars(first.average || 0), ` ${(first.average || 0).toFixed(1)} out of 5 from ${count} ${count === 1 ? 'review' : 'reviews'}`]
      : 'No reviews yet.');
  const more = moreButton({
    label: 'More reviews', testid: 'more-reviews', next: first.nextCursor,
    load: (cursor) => listReviews(p.id, { limit: 10, cursor }),
    add: (rest) => list.append(...rest.map((r) => reviewItem(r, me))),
  });

  replace(section, h('h2', { id: 'reviews-title' }, 'Reviews'), summary, list, more,
    me ? reviewForm(p, items.find((r) => r.userId === me.id), section, ctx)
      : h('p', { 'data-testid': 'review-login' }, h('a', { href: `#/login?next=${encodeURIComponent(`/products/${p.id}`)}` }, 'Log in'), ' to review a product you received.'));
}

function reviewForm(p, mine, section, ctx) {
  const form = h('form', { class: 'form review-form', novalidate: true, 'data-testid': 'review-form', 'aria-labelledby': 'review-form-title' },
    h('h3', { id: 'review-form-title' }, mine ? 'Your review' : 'Write a review'),
    field({ label: 'Rating', name: 'rating', tag: 'select', value: String(mine?.rating || 5), options: RATINGS, 'data-testid': 'review-rating-input' }),
    field({ label: 'Title', name: 'title', maxlength: 120, value: mine?.title || '', 'data-testid': 'review-title-input' }),
    field({ label: 'Review', name: 'body', tag: 'textarea', rows: 5, maxlength: 4000, value: mine?.body || '', 'data-testid': 'review-body-input' }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'review-submit' }, mine ? 'Update review' : 'Post review'),
      mine ? h('button', {
        type: 'button', class: 'danger', 'data-testid': 'review-delete',
        onclick: async () => {
          clearProblem(form);
          try {
            await busy(form, () => deleteMyReview(p.id));
            announce('Your review is deleted.');
            await renderReviews(section, p, ctx);
          } catch (err) {
            showProblem(form, err);
          }
        },
      }, 'Delete my review') : null));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const data = new FormData(form);
    const body = { rating: Number(data.get('rating')), title: String(data.get('title')).trim(), body: String(data.get('body')).trim() };
    try {
      const res = await busy(form, () => putMyReview(p.id, body));
      announce(res.status === 201 ? 'Thank you: your review is posted.' : 'Your review is updated.');
      await renderReviews(section, p, ctx);
    } catch (err) {
      showProblem(form, err);
      form.querySelector('.form-error')?.focus();
    }
  });
  return form;
}
