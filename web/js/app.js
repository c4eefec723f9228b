// The web admin's entry: a hash router (#/mailboxes, #/mailbox/27000, #/calls, #/attendant, #/me) and the
// sign-in page. Administrators sign in with an API token; mailbox owners with their number and PIN.
import { h, show, status } from './dom.js';
import { admin, adminToken, owner, ApiError } from './api.js';
import { mailboxesPage, mailboxPage } from './mailboxes.js';
import { callsPage } from './calls.js';
import { attendantPage } from './attendant.js';
import { ownerPage } from './owner.js';

const ADMIN_NAV = [['#/mailboxes', 'Mailboxes'], ['#/calls', 'Live calls'], ['#/attendant', 'Attendant']];

/** Pages by the first path segment; each gets the rest of the path and the query. */
const ADMIN_PAGES = {
  mailboxes: (rest, query) => mailboxesPage(query),
  mailbox: (rest) => mailboxPage(decodeURIComponent(rest[0] ?? '')),
  calls: () => callsPage(),
  attendant: () => attendantPage(),
};

let stopPage;

function nav(links, who, onSignOut) {
  const current = location.hash.split('?')[0];
  document.getElementById('nav').replaceChildren(...links.map(([href, text]) => h('a', { href, class: current.startsWith(href) ? 'current' : '' }, text)));
  document.getElementById('who').replaceChildren(...(who ? [who, ' ', h('button', { onclick: onSignOut, id: 'signout' }, 'Sign out')] : []));
}

async function route() {
  stopPage?.();
  stopPage = undefined;
  status('');
  const [path, queryText] = location.hash.slice(1).split('?');
  const [first, ...rest] = (path ?? '').split('/').filter(Boolean);
  const query = new URLSearchParams(queryText ?? '');
  try {
    if (first === 'me') {
      nav([['#/me', 'My messages']], 'Mailbox owner', signOutOwner);
      stopPage = await ownerPage();
      return;
    }
    if (adminToken.get() && ADMIN_PAGES[first]) {
      nav(ADMIN_NAV, 'Administrator', signOutAdmin);
      stopPage = await ADMIN_PAGES[first](rest, query);
      return;
    }
    if (adminToken.get() && first !== 'signin') return void (location.hash = '#/mailboxes');
    nav([], '', undefined);
    signInPage();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      if (first === 'me') return void (location.hash = '#/signin');
      adminToken.clear();
      return void (location.hash = '#/signin');
    }
    status(err.message, true);
  }
}

function signOutAdmin() {
  adminToken.clear();
  location.hash = '#/signin';
}

async function signOutOwner() {
  await owner('DELETE', '/api/me/session').catch(() => undefined);
  location.hash = '#/signin';
}

function signInPage() {
  const token = h('input', { type: 'password', id: 'token', autocomplete: 'off', required: true, placeholder: 'API token' });
  const adminError = h('p', { class: 'error' });
  const adminForm = h('form', { class: 'signin', id: 'admin-signin', onsubmit: async (e) => {
    e.preventDefault();
    adminToken.set(token.value.trim());
    try {
      // The cheapest admin route: it proves the token before any page is drawn.
      await admin('GET', '/api/attendant');
      location.hash = '#/mailboxes';
    } catch (err) {
      adminToken.clear();
      adminError.textContent = err instanceof ApiError && err.status === 401 ? 'That token is not accepted.' : err.message;
    }
  } }, h('h2', {}, 'Administrator'), h('label', {}, 'API token ', token), h('button', { class: 'primary', type: 'submit' }, 'Sign in'), adminError);

  const number = h('input', { type: 'text', id: 'mailbox', inputmode: 'numeric', autocomplete: 'username', required: true, placeholder: 'Mailbox number' });
  const pin = h('input', { type: 'password', id: 'pin', inputmode: 'numeric', autocomplete: 'current-password', required: true, placeholder: 'PIN' });
  const ownerError = h('p', { class: 'error', id: 'owner-error' });
  const ownerForm = h('form', { class: 'signin', id: 'owner-signin', onsubmit: async (e) => {
    e.preventDefault();
    ownerError.textContent = '';
    try {
      await owner('POST', '/api/me/session', { body: { mailbox: number.value.trim(), pin: pin.value } });
      pin.value = '';
      location.hash = '#/me';
    } catch (err) {
      pin.value = '';
      ownerError.textContent = err instanceof ApiError && err.status === 429 ? 'Too many wrong PINs: wait a moment and try again.' : err instanceof ApiError && err.status === 401 ? 'Mailbox number or PIN not correct.' : err.message;
    }
  } }, h('h2', {}, 'Mailbox owner'), h('label', {}, 'Mailbox ', number), h('label', {}, 'PIN ', pin), h('button', { class: 'primary', type: 'submit' }, 'Sign in'), ownerError);

  show(h('h1', {}, 'Sign in'), h('div', { class: 'signins' }, adminForm, ownerForm));
}

window.addEventListener('hashchange', route);
route();
