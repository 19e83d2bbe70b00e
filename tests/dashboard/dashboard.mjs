// dashboard.mjs: the dashboard in Debian's headless chromium, driven by playwright-core
// (no browser of its own is downloaded: CHROMIUM is Debian's). Run by
// tests/integration/dashboard.sh against a seeded onboardd; every figure it checks comes
// from --expected, which the harness computed from the seeded applications.
//
//   node dashboard.mjs --base URL --server IPC_URL --expected FILE --key FILE
//                      --brief-token-file FILE --brief-expires MS --out DIR
//
// Steps: a session token that expires returns the page to its sign-in; a key file signs in
// (WebCrypto Ed25519); the cohort's figures; the review queue, oldest first, and a filter; an
// application changed behind the page's back is refused (ABORTED) as the CLI refuses it; the
// approval through the page, which the CLI then sees. The token is read from a file: no
// process of the test, chromium's included, has it on its command line (which any local user
// can read), and a sign-in form submitted without the page's script sends nothing in the URL.
// Screenshots in --out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const want = JSON.parse(readFileSync(args.expected, 'utf8'));
const briefToken = readFileSync(args['brief-token-file'], 'utf8').trim();
// The command lines of every process this user can see that hold s.
function commandLinesWith(s) {
  const found = [];
  for (const pid of readdirSync('/proc').filter(d => /^[0-9]+$/.test(d))) {
    try {
      const argv = readFileSync('/proc/' + pid + '/cmdline', 'latin1');
      if (argv.includes(s)) found.push(pid + ': ' + argv.replace(/\0/g, ' ').slice(0, 80));
    } catch (e) { /* gone meanwhile */ }
  }
  return found;
}
const cli = (...a) => execFileSync(process.env.ONBOARD_CLI, ['--timeout', '10s', '--server', args.server, ...a], { encoding: 'utf8' });
const number = s => Number(String(s).replace(/[^0-9-]/g, ''));
let checks = 0;
function check(name, got, expected) {
  assert.deepEqual(got, expected, name);
  checks++;
  console.log('ok: ' + name);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const errors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', e => errors.push(e.message));
  // The refusals the test provokes (401 after the expiry, 409 for the stale version) are
  // logged by chromium as failed loads: those are expected; any other error is not.
  page.on('console', m => {
    if (m.type() === 'error' && !/^Failed to load resource: .* (401|409) /.test(m.text())) errors.push(m.text());
  });
  const requests = [];
  page.on('request', r => requests.push(r.url()));
  const shot = name => page.screenshot({ path: join(args.out, name), fullPage: true });

  await page.goto(args.base + '/');
  await page.waitForSelector('body[data-ready="true"]');
  check('the page opens on its sign-in', await page.isVisible('#signin'), true);

  // ---- a token that expires: the page goes back to its sign-in ----
  await page.fill('#token', briefToken);
  await page.click('#token-form button[type="submit"]');
  await page.waitForSelector('#cohort:not([hidden]) [data-figure="seats-held"]');
  check('a token from onboard login --print-token signs in', await page.isVisible('#signin'), false);
  check('no command line holds the token (chromium and its children included)', commandLinesWith(briefToken), []);
  const wait = Number(args['brief-expires']) + 1500 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  await page.click('a[data-nav="queue"]');
  await page.waitForSelector('#signin:not([hidden])');
  check('the expired token returns the page to sign-in', (await page.textContent('#signin-reason')).includes('sign in again'), true);
  check('nothing of the session is left in storage',
    await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length), 0);
  await shot('signin-expired.png');

  // ---- a key file: the login is signed in the page ----
  await page.setInputFiles('#key-file', args.key);
  await page.click('#key-submit');
  await page.waitForSelector('#who:not([hidden])');
  check('a key file signs in (WebCrypto Ed25519)', (await page.textContent('#who-text')).includes('reviewer'), true);
  await page.click('a[data-nav="cohort"]');
  await page.waitForSelector('#cohort:not([hidden]) [data-figure="seats-held"]');

  // ---- the cohort's figures ----
  const fig = async name => number(await page.textContent(`[data-figure="${name}"]`));
  check('seats held', await fig('seats-held'), want.seatsHeld);
  check('capacity', await fig('capacity'), want.capacity);
  check('seats free', await fig('seats-free'), want.capacity - want.seatsHeld);
  check('waitlist', await fig('waitlist'), want.waitlist);
  check('applications', await fig('applications'), want.applications);
  check('to review', await fig('to-review'), want.toReview);
  check('benefits granted', await fig('benefits-granted'), want.granted);
  const table = async chart => Object.fromEntries(await page.$$eval(`table[data-chart="${chart}"] tbody tr`,
    rows => rows.map(r => [r.dataset.key, Number(r.querySelector('[data-count]').dataset.count)])));
  const nonzero = o => Object.fromEntries(Object.entries(o).filter(([, v]) => v > 0));
  check('applications by state', nonzero(await table('states')), want.states);
  check('live applications by région', await table('regions'), want.regions);
  check('new applications per day', await table('per-day'), want.perDay);
  check('the lockdown, the milestone and the end of the waiver are marked',
    await page.$$eval('#perday .legend li', li => li.map(l => l.className)), ['lockdown', 'milestone', 'waiver']);
  await shot('cohort.png');
  await page.setViewportSize({ width: 390, height: 844 });
  check('a phone screen needs no sideways scrolling',
    await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), true);
  await shot('cohort-phone.png');
  await page.setViewportSize({ width: 1280, height: 900 });

  // ---- the review queue ----
  await page.click('a[data-nav="queue"]');
  await page.waitForSelector('#queue-table tbody tr');
  check('the queue starts with the oldest application to review',
    await page.getAttribute('#queue-table tbody tr:first-child', 'data-id'), want.oldestToReview);
  check('the queue lists every application to review', await page.locator('#queue-table tbody tr').count(), Math.min(50, want.toReview));
  await page.selectOption('#region-filter', want.busiestRegion);
  await page.click('#filters button[type="submit"]');
  await page.waitForFunction(n => document.querySelectorAll('#queue-table tbody tr').length === n, want.busiestRegionCount);
  check('the région filter keeps that région only',
    [...new Set(await page.$$eval('#queue-table tbody tr td:nth-child(5)', c => c.map(x => x.textContent)))], [want.busiestRegion]);
  await shot('queue.png');

  // ---- one application: a change behind the page's back, then the approval ----
  await page.evaluate(id => { location.hash = '#/app/' + id; }, want.target);
  await page.waitForSelector('#review-actions button[data-action="START"]');
  check('the application shows its version', await page.textContent('[data-figure="version"]'), '1');
  cli('review', want.target, 'start'); // someone else starts the review meanwhile
  await page.click('#review-actions button[data-action="START"]');
  await page.waitForFunction(() => document.getElementById('app-error').textContent.startsWith('aborted'));
  check('a stale version is refused as the CLI refuses it (aborted)', (await page.textContent('#app-error')).startsWith('aborted'), true);
  await page.waitForSelector('#review-actions button[data-action="APPROVE"]');
  check('the page shows the application as it is now', await page.textContent('[data-figure="version"]'), '2');
  await page.fill('#review-note', 'approved from the dashboard');
  await page.click('#review-actions button[data-action="APPROVE"]');
  await page.waitForFunction(() => document.querySelector('[data-figure="state"]').textContent.startsWith('approved'));
  const got = JSON.parse(cli('--json', 'get', want.target));
  check('the CLI sees the approval', got.state, 'APPLICATION_STATE_APPROVED');
  check('the history names the note', got.history.some(h => (h.reason || '').includes('approved from the dashboard')), true);
  check('the history on the page shows it', (await page.textContent('#app-history')).includes('approved from the dashboard'), true);
  await shot('application.png');

  // ---- the cohort again: one more application granted benefits ----
  await page.click('a[data-nav="cohort"]');
  await page.waitForFunction(n => document.querySelector('[data-figure="benefits-granted"]')?.textContent === String(n), want.granted + 1);
  check('the cohort counts the approval', await fig('benefits-granted'), want.granted + 1);

  const origin = new URL(args.base).origin;
  check('every request stayed on onboardd (no CDN)', requests.filter(u => !u.startsWith(origin) && !u.startsWith('data:')), []);

  // ---- the sign-in form when the page's script does not run, in a browser without CSP ----
  // (form-action 'none' stops the submission in chromium: bypassed here, as a browser that
  // does not know it would.) Nothing may go in the URL: no history, no log of the token.
  const bare = await browser.newContext({ javaScriptEnabled: false, bypassCSP: true });
  const plain = await bare.newPage();
  const sent = [];
  plain.on('request', r => sent.push(r.url()));
  await plain.goto(args.base + '/');
  await plain.fill('#token', briefToken);
  await Promise.all([plain.waitForNavigation(), plain.click('#token-form button[type="submit"]')]);
  check('a sign-in form submitted without script sends no token', sent.filter(u => u.includes(briefToken)), []);
  await bare.close();
  check('no script error in the page', errors, []);
  console.log(`dashboard: all ${checks} checks passed`);
} finally {
  await browser.close();
}
