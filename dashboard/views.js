// views.js: the three views (the cohort at a glance, the review queue, one application), each
// drawn from one or two Connect calls. Figures are onboardd's (GetCohort's counters): the page
// adds nothing up but what it shows side by side.

import { onboarding } from './api.js';
import { barTable, perDay } from './charts.js';
import {
  $, el, clear, figures, counts, num, euros, percent, when,
  STATES, SIZES, CHANNELS, stateWord, channelWord, sizeWord, enumWord,
} from './format.js';

// The queue's filters, from the same words as everything the page shows.
export function fillFilters() {
  $('state-filter').append(...STATES.map(([k, w]) => el('option', { value: 'APPLICATION_STATE_' + k }, w)));
  $('size-filter').append(...SIZES.map(k => el('option', { value: 'SIZE_CATEGORY_' + k }, k)));
  $('channel-filter').append(...CHANNELS.map(([k, w]) => el('option', { value: 'CHANNEL_' + k }, w)));
}

// ---- the cohort ----

function tile(label, value, name, detail) {
  return el('div', { class: 'tile' },
    el('p', { class: 'label', id: 'tile-' + name }, label),
    el('p', { class: 'value', 'data-figure': name, 'aria-describedby': 'tile-' + name }, value),
    detail ? el('p', { class: 'detail' }, detail) : '');
}

export async function showCohort(cohortId) {
  const [st, list] = await Promise.all([
    onboarding('GetCohort', { id: cohortId || '' }),
    onboarding('ListCohorts', {}),
  ]);
  const c = st.cohort || {};
  const pick = $('cohort-pick');
  clear(pick);
  for (const k of list.cohorts || []) pick.append(el('option', { value: k.id, selected: k.id === c.id }, k.id + ' · ' + (k.name || '')));
  $('cohort-name').textContent = c.id ? c.id + ' · ' + (c.name || '') : '';
  const capacity = Number(c.capacity || 0), held = Number(st.seatsHeld || 0);
  const byState = counts(st.byState);
  clear($('tiles')).append(
    tile('Seats held', num(held), 'seats-held', 'of ' + num(capacity) + ' (' + (capacity ? Math.round(held * 100 / capacity) : 0) + ' %)'),
    tile('Seats free', num(st.seatsFree), 'seats-free'),
    tile('Capacity', num(capacity), 'capacity'),
    tile('Waitlist', num(st.waitlistLength), 'waitlist'),
    tile('To review', num((byState.get('SUBMITTED') || 0) + (byState.get('UNDER_REVIEW') || 0) + (byState.get('NEEDS_INFO') || 0)), 'to-review',
      'submitted, in review, needs info'),
    tile('Applications', num(st.applications), 'applications', num(st.liveApplications) + ' live'),
  );
  const seats = $('tiles').querySelector('[data-figure="seats-held"]').parentElement;
  const meter = el('meter', { min: 0, max: capacity || 1, value: held, 'aria-label': 'Seats held against the capacity' });
  seats.append(meter);

  perDay($('perday'), st.submissionsPerDay, [
    { from: c.lockdownStart, to: c.lockdownEnd, label: 'Lockdown', cls: 'lockdown' },
    { from: c.milestoneDate, label: 'Black Friday milestone', cls: 'milestone' },
    { from: c.feeWaiverUntil, label: 'End of the fee waiver', cls: 'waiver' },
  ].filter(m => m.from));
  barTable($('funnel'), 'Applications by state',
    STATES.map(([k, w]) => ({ key: k, label: w, count: byState.get(k) || 0 })), 'states');
  const regions = [...counts(st.byRegion)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'fr'));
  barTable($('regions'), 'Live applications by région', regions.map(([k, n]) => ({ key: k, label: k, count: n })), 'regions');
  const sizes = counts(st.bySize);
  barTable($('sizes'), 'Live applications by size', SIZES.filter(k => sizes.has(k) || k === 'TPE' || k === 'PME')
    .map(k => ({ key: k, label: k, count: sizes.get(k) || 0 })), 'sizes');
  const ch = counts(st.byChannel);
  barTable($('channels'), 'Live applications by channel',
    CHANNELS.map(([k, w]) => ({ key: k, label: w, count: ch.get(k) || 0 })), 'channels');
  const b = st.benefits || {};
  figures($('benefits'), [
    ['Export share of onboarded sellers', percent(st.exportShare) + ' (' + num(st.onboardedExporters) + ' of ' + num(st.onboarded) + ', target 70 %)', 'export-share'],
    ['Live applications intending to export', num(st.exporters), 'exporters'],
    ['Live before the milestone', num(st.liveBeforeMilestone), 'live-before-milestone'],
    ['Applications granted benefits', num(b.granted), 'benefits-granted'],
    ['Fees waived', euros(b.feeWaivedCents), 'fees-waived'],
    ['Ad credit granted', euros(b.adCreditGrantedCents), 'ad-credit-granted'],
    ['Ad credit used', euros(b.adCreditUsedCents) + (Number(b.adCreditGrantedCents) > 0
      ? ' (' + Math.round(Number(b.adCreditUsedCents || 0) * 100 / Number(b.adCreditGrantedCents)) + ' %)' : ''), 'ad-credit-used'],
  ]);
  await showWaitlist(c.id);
  const filter = $('region-filter');
  const keep = filter.value;
  clear(filter).append(el('option', { value: '' }, 'any'),
    ...regions.map(([k]) => el('option', { value: k, selected: k === keep }, k)));
  return c.id;
}

// The first in line: who a freed seat goes to next.
async function showWaitlist(cohortId) {
  const r = await onboarding('ListApplications', { cohortId, states: ['APPLICATION_STATE_WAITLISTED'], pageSize: 5 });
  const box = clear($('waitlist'));
  const apps = r.applications || [];
  if (apps.length === 0) { box.append(el('p', { class: 'hint' }, 'Nobody waits: seats are free or the line is empty.')); return; }
  box.append(el('p', {}, 'Next in line (a freed seat goes to the first):'),
    el('ol', {}, ...apps.map(a => el('li', {}, el('a', { href: '#/app/' + a.id }, (a.company && a.company.legalName) || a.id),
      ' · position ' + num(a.waitlistPosition) + ' · since ' + when(a.submittedAt)))));
}

// ---- the queue ----

let queueToken = '';

export function queueRequest(form, cohortId) {
  const f = new FormData(form);
  const state = f.get('state');
  const req = {
    cohortId: cohortId || '',
    states: state ? [state] : ['APPLICATION_STATE_SUBMITTED', 'APPLICATION_STATE_UNDER_REVIEW', 'APPLICATION_STATE_NEEDS_INFO'],
    pageSize: 50,
  };
  if (f.get('size')) req.sizeCategory = f.get('size');
  if (f.get('channel')) req.channel = f.get('channel');
  if (f.get('region')) req.region = f.get('region');
  const dep = String(f.get('departement') || '').trim().toUpperCase();
  if (dep) req.departement = dep;
  return req;
}

export async function showQueue(req, more) {
  const err = $('queue-error');
  err.textContent = '';
  const body = $('queue-table').tBodies[0];
  if (!more) { clear(body); queueToken = ''; }
  let r;
  try {
    r = await onboarding('ListApplications', { ...req, pageToken: more ? queueToken : '' });
  } catch (e) {
    err.textContent = describe(e);
    throw e;
  }
  for (const a of r.applications || []) {
    const co = a.company || {}, ad = co.address || {};
    body.append(el('tr', { 'data-id': a.id },
      el('td', {}, when(a.submittedAt)),
      el('th', { scope: 'row' }, el('a', { href: '#/app/' + a.id }, co.legalName || a.id), el('span', { class: 'hint' }, ' ' + (co.siren || ''))),
      el('td', { 'data-state': a.state }, stateWord(a.state)),
      el('td', {}, sizeWord(a.sizeCategory)),
      el('td', {}, ad.region || ''),
      el('td', {}, channelWord(a.channel))));
  }
  queueToken = r.nextPageToken || '';
  $('queue-more').hidden = queueToken === '';
  $('queue-caption').textContent = 'Oldest submitted first · ' + num(body.rows.length) + ' shown' + (queueToken ? ', more on the next page' : '');
}

// ---- one application ----

const ACTIONS = {
  START: { label: 'Start the review', from: ['SUBMITTED', 'NEEDS_INFO'] },
  REQUEST_INFO: { label: 'Ask for information', from: ['UNDER_REVIEW'] },
  APPROVE: { label: 'Approve', from: ['UNDER_REVIEW'] },
  REJECT: { label: 'Reject', from: ['WAITLISTED', 'SUBMITTED', 'UNDER_REVIEW', 'NEEDS_INFO'] },
};

export function describe(e) {
  let s = (e.code ? e.code.replace(/_/g, ' ') + ': ' : '') + e.message;
  for (const v of e.violations || []) s += ' — ' + v.field + ': ' + v.description;
  return s;
}

let current = null;

export async function showApplication(id, onAct) {
  $('app-error').textContent = '';
  let a;
  try {
    a = await onboarding('GetApplication', { id });
  } catch (e) {
    $('app-error').textContent = describe(e);
    clear($('app-company')); clear($('app-state')); clear($('review-actions')); clear($('app-history').tBodies[0]);
    throw e;
  }
  current = a;
  const co = a.company || {}, ad = co.address || {}, ct = a.contact || {};
  $('app-title').textContent = (co.legalName || 'Application') + ' · ' + a.id;
  figures($('app-company'), [
    ['SIREN', co.siren || '', 'siren'],
    ['Legal form', enumWord(co.legalForm, /^LEGAL_FORM_/), 'legal-form'],
    ['NAF', (co.nafCode || '') + ' ' + (a.nafLabel || ''), 'naf'],
    ['Size', sizeWord(a.sizeCategory) + ' · ' + num(co.employees) + ' employees · ' + euros(Number(co.turnoverEur || 0) * 100) + ' turnover', 'size'],
    ['Address', [ad.street, (ad.postalCode || '') + ' ' + (ad.city || ''), ad.region].filter(Boolean).join(', '), 'address'],
    ['Channel', channelWord(a.channel) + (a.intendsToExport ? ', intends to export' : ''), 'channel'],
    ['Contact', a.contactErased ? '[erased]' : [ct.name, ct.email, ct.phone].filter(Boolean).join(' · '), 'contact'],
  ]);
  const ben = a.benefits;
  figures($('app-state'), [
    ['State', stateWord(a.state) + (a.waitlistPosition ? ' (position ' + a.waitlistPosition + ')' : ''), 'state'],
    ['Version', String(a.version || '0'), 'version'],
    ['Submitted', when(a.submittedAt), 'submitted'],
    ...(ben ? [['Benefits', euros(ben.feeWaivedCents) + ' fees waived, ' + euros(ben.adCreditCents) + ' ad credit (' + euros(ben.adCreditUsedCents) + ' used)' +
      (ben.advisorName ? ', advisor ' + ben.advisorName : ''), 'benefits']] : []),
  ]);
  const state = String(a.state || '').replace(/^APPLICATION_STATE_/, '');
  const actions = clear($('review-actions'));
  for (const [k, d] of Object.entries(ACTIONS)) {
    if (!d.from.includes(state)) continue;
    const b = el('button', { type: 'button', 'data-action': k, class: k === 'REJECT' ? 'danger' : '' }, d.label);
    b.addEventListener('click', () => onAct(k));
    actions.append(b);
  }
  if (actions.children.length === 0) actions.append(el('p', { class: 'hint' }, 'No review action from ' + stateWord(state) + '.'));
  const hb = clear($('app-history').tBodies[0]);
  for (const h of a.history || []) {
    hb.append(el('tr', {}, el('td', {}, when(h.at)), el('td', {}, stateWord(h.from)), el('td', {}, stateWord(h.to)),
      el('td', {}, h.actor || ''), el('td', {}, h.reason || '')));
  }
  return a;
}

// One review action with the version the reviewer saw: a change since is ABORTED, as in the CLI.
export async function act(action) {
  if (current === null) return null;
  const req = { id: current.id, action: 'REVIEW_ACTION_' + action, expectedVersion: String(current.version || '0') };
  const note = $('review-note').value.trim();
  if (note) req.note = note;
  if (action === 'REJECT') {
    const reason = $('review-reason').value;
    if (!reason) {
      $('app-error').textContent = 'Choose a reason for the rejection.';
      $('review-reason').focus();
      return null;
    }
    req.rejectionReason = reason;
  }
  return onboarding('ReviewApplication', req, { write: true });
}
