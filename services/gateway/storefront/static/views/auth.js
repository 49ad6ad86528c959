// Log in and register.

import { login, register, currentUser } from '../api.js';
import { h, replace, field, title, showProblem, clearProblem, busy, announce } from '../ui.js';

/** The route to go to after logging in: only a path of this app. */
function nextPath(query) {
  const next = query.get('next') || '/';
  return /^\/[^/\\]/.test(next) || next === '/' ? next : '/';
}

function go(ctx, path) {
  const [p, q = ''] = path.split('?');
  ctx.navigate(p, q ? Object.fromEntries(new URLSearchParams(q)) : undefined);
}

export async function renderLogin(main, ctx) {
  ctx.setTitle('Log in');
  const next = nextPath(ctx.query);
  const user = currentUser();
  const form = h('form', { class: 'form narrow', novalidate: true, 'data-testid': 'login-form', 'aria-labelledby': 'login-title' },
    field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true, value: ctx.query.get('email') || '' }),
    field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Log in')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const data = new FormData(form);
    try {
      const session = await busy(form, () => login({ email: String(data.get('email')).trim(), password: String(data.get('password')) }));
      announce(`Welcome, ${session.user.name || session.user.email}.`);
      go(ctx, next);
    } catch (err) {
      showProblem(form, err);
      form.querySelector('.form-error')?.focus();
    }
  });
  replace(main,
    title('Log in', { id: 'login-title' }),
    ctx.query.get('registered') ? h('p', { class: 'notice', 'data-testid': 'registered' }, 'Your account is ready: log in to continue.') : null,
    user ? h('p', { class: 'notice' }, `You are signed in as ${user.email}. Logging in again replaces that session.`) : null,
    form,
    h('p', {}, 'New here? ', h('a', { href: `#/register${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}` }, 'Create an account')));
}

export async function renderRegister(main, ctx) {
  ctx.setTitle('Register');
  const next = nextPath(ctx.query);
  const form = h('form', { class: 'form narrow', novalidate: true, 'data-testid': 'register-form', 'aria-labelledby': 'register-title' },
    field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: 254 }),
    field({ label: 'Name', name: 'name', autocomplete: 'name', required: true, maxlength: 100 }),
    field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 128, hint: 'At least 10 characters.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create account')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const data = new FormData(form);
    const email = String(data.get('email')).trim();
    try {
      await busy(form, () => register({ email, name: String(data.get('name')).trim(), password: String(data.get('password')) }));
      announce('Your account is ready: log in to continue.');
      ctx.navigate('/login', { email, registered: '1', next: next !== '/' ? next : '' });
    } catch (err) {
      showProblem(form, err);
      form.querySelector('.form-error')?.focus();
    }
  });
  replace(main,
    title('Create an account', { id: 'register-title' }),
    form,
    h('p', {}, 'Already registered? ', h('a', { href: '#/login' }, 'Log in')));
}

/** A note with a link to log in and come back, for pages that need a session. */
export function needLogin(main, what) {
  const back = location.hash.slice(1) || '/';
  replace(main,
    title('Please log in'),
    h('p', { 'data-testid': 'need-login' }, `Log in to ${what}. `,
      h('a', { href: `#/login?next=${encodeURIComponent(back)}` }, 'Log in'), ' or ',
      h('a', { href: `#/register?next=${encodeURIComponent(back)}` }, 'create an account'), '.'));
}
