// app.js: the dashboard's entry point: sign-in, the routes (#/cohort, #/queue, #/app/ID), the
// refresh every 20 seconds while the page is visible, and the return to sign-in when the
// session ends (its expiry, or an UNAUTHENTICATED answer).

import { setToken, hasToken, onSessionLost } from './api.js';
import { ed25519Available, loginWithKeyFile, loginWithToken } from './signin.js';
import { showCohort, showQueue, queueRequest, showApplication, act, describe, fillFilters } from './views.js';
import { $ } from './format.js';

const REFRESH_MS = 20000;
let cohortId = '';
let expiryTimer = null;
let refreshTimer = null;
let session = null;

function say(text) { $('status').textContent = text; }

function show(section) {
  for (const id of ['signin', 'cohort', 'queue', 'application']) $(id).hidden = id !== section;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section || (section === 'application' && a.dataset.nav === 'queue')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function signedIn(s) {
  session = s;
  setToken(s.token);
  $('token').value = '';
  $('key-file').value = '';
  $('signin-reason').textContent = '';
  $('who-text').textContent = 'Signed in as ' + s.keyId + (s.role ? ' (' + s.role + ')' : '');
  $('who').hidden = false;
  $('nav').hidden = false;
  clearTimeout(expiryTimer);
  if (s.expiresAt) {
    const left = Date.parse(s.expiresAt) - Date.now();
    if (left > 0) expiryTimer = setTimeout(() => signOut('Your session expired: sign in again.'), Math.min(left, 2 ** 31 - 1));
  }
  if (!location.hash || location.hash === '#/signin') location.hash = '#/cohort';
  else route();
}

function signOut(reason) {
  session = null;
  setToken(null);
  clearTimeout(expiryTimer);
  $('who').hidden = true;
  $('nav').hidden = true;
  $('signin-reason').textContent = reason || '';
  show('signin');
  say(reason || 'Signed out.');
  $('main').focus();
}

onSessionLost(e => signOut('Your session ended (' + e.message + '): sign in again.'));

async function route(quiet) {
  if (!hasToken()) { show('signin'); return; }
  const h = location.hash || '#/cohort';
  try {
    if (h.startsWith('#/app/')) {
      show('application');
      await showApplication(decodeURIComponent(h.slice(6)), onAct);
    } else if (h === '#/queue') {
      show('queue');
      await showQueue(queueRequest($('filters'), cohortId), false);
    } else {
      show('cohort');
      cohortId = await showCohort(cohortId);
    }
    $('updated').textContent = 'Updated at ' + new Date().toLocaleTimeString('en-GB') + '.';
    if (!quiet) say('');
  } catch (e) {
    if (hasToken()) say('Could not load: ' + describe(e));
  }
}

async function onAct(action) {
  const buttons = document.querySelectorAll('#review-actions button');
  for (const b of buttons) b.disabled = true;
  try {
    const a = await act(action);
    if (a === null) return;
    $('review-note').value = '';
    $('review-reason').value = '';
    say('Done: the application is now ' + String(a.state).replace(/^APPLICATION_STATE_/, '').toLowerCase().replace(/_/g, ' ') + '.');
    await showApplication(a.id, onAct);
  } catch (e) {
    // Shown again as it is now (a stale version: what changed), then why the action failed.
    if (hasToken()) await showApplication(decodeURIComponent(location.hash.slice(6)), onAct).catch(() => {});
    $('app-error').textContent = describe(e);
    if (e.code === 'aborted') say('The application changed since you read it: it is shown again as it is now.');
  } finally {
    for (const b of document.querySelectorAll('#review-actions button')) b.disabled = false;
  }
}

function wire() {
  $('token-form').addEventListener('submit', async ev => {
    ev.preventDefault();
    const t = $('token').value.trim();
    if (!t) { $('signin-reason').textContent = 'Paste a token first.'; $('token').focus(); return; }
    say('Signing in…');
    try { signedIn(await loginWithToken(t)); } catch (e) { $('signin-reason').textContent = 'Not signed in: ' + describe(e); say(''); }
  });
  $('key-form').addEventListener('submit', async ev => {
    ev.preventDefault();
    const f = $('key-file').files[0];
    if (!f) { $('signin-reason').textContent = 'Choose your key file first.'; $('key-file').focus(); return; }
    if (f.size > 4096) { $('signin-reason').textContent = 'That is not a key file (too large).'; return; }
    say('Signing in…');
    try { signedIn(await loginWithKeyFile(await f.text())); } catch (e) { $('signin-reason').textContent = 'Not signed in: ' + describe(e); say(''); }
  });
  $('signout').addEventListener('click', () => signOut('Signed out.'));
  $('filters').addEventListener('submit', ev => { ev.preventDefault(); route(); });
  $('queue-more').addEventListener('click', () => showQueue(queueRequest($('filters'), cohortId), true).catch(() => {}));
  $('cohort-pick').addEventListener('change', ev => { cohortId = ev.target.value; route(); });
  window.addEventListener('hashchange', () => { route(); $('main').focus(); });
  refreshTimer = setInterval(() => {
    // The application view is left alone while someone may be typing a note.
    if (hasToken() && !document.hidden && !(location.hash || '').startsWith('#/app/')) route(true);
  }, REFRESH_MS);
}

async function start() {
  fillFilters();
  wire();
  if (!(await ed25519Available())) {
    $('key-support').textContent = 'This browser cannot sign with Ed25519 (WebCrypto): use a session token.';
    $('key-submit').disabled = true;
    $('key-file').disabled = true;
  }
  show('signin');
  document.body.dataset.ready = 'true';
}

start();
