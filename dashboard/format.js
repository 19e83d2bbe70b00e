// format.js: words and numbers as the page shows them, and the small DOM helpers every view
// uses (text only: nothing a server sends is ever parsed as HTML).

export const STATES = [
  ['SUBMITTED', 'submitted'], ['UNDER_REVIEW', 'in review'], ['NEEDS_INFO', 'needs info'],
  ['APPROVED', 'approved'], ['ONBOARDED', 'onboarded'], ['REJECTED', 'rejected'],
  ['WITHDRAWN', 'withdrawn'], ['WAITLISTED', 'waitlisted'],
];
const STATE_WORDS = Object.fromEntries(STATES);
export const SIZES = ['TPE', 'PME', 'ETI', 'GE'];
export const CHANNELS = [['MARKETPLACE', 'marketplace'], ['OWN_WEBSHOP', 'own web shop'], ['BOTH', 'both']];
const CHANNEL_WORDS = Object.fromEntries(CHANNELS);

// "APPLICATION_STATE_UNDER_REVIEW" or "UNDER_REVIEW" -> "in review".
export function stateWord(s) {
  const k = String(s || '').replace(/^APPLICATION_STATE_/, '');
  return STATE_WORDS[k] || k.toLowerCase();
}
export function channelWord(s) {
  const k = String(s || '').replace(/^CHANNEL_/, '');
  return CHANNEL_WORDS[k] || k.toLowerCase();
}
export function sizeWord(s) { return String(s || '').replace(/^SIZE_CATEGORY_/, ''); }
export function enumWord(s, prefix) { return String(s || '').replace(prefix, '').toLowerCase().replace(/_/g, ' '); }

const nf = new Intl.NumberFormat('en-GB');
export function num(n) { return nf.format(Number(n || 0)); }
export function euros(cents) {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 })
    .format(Number(cents || 0) / 100);
}
export function percent(x) { return (Number(x || 0) * 100).toFixed(1) + ' %'; }
export function when(rfc3339) {
  if (!rfc3339) return '';
  return rfc3339.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
}

// el('p', {class: 'x', 'data-figure': 'y'}, 'text', child...): an element with attributes and
// children (strings become text nodes).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
export function clear(e) { while (e.firstChild) e.firstChild.remove(); return e; }
export function $(id) { return document.getElementById(id); }

// A <dl> of figures: rows [label, value, figureName]; each <dd> carries data-figure for tests.
export function figures(dl, rows) {
  clear(dl);
  for (const [label, value, name] of rows) {
    dl.append(el('dt', {}, label), el('dd', { 'data-figure': name }, value));
  }
}

// CountByKey[] -> Map key -> count.
export function counts(list) {
  const m = new Map();
  for (const c of list || []) m.set(c.key, Number(c.count || 0));
  return m;
}
