// charts.js: the dashboard's charts, drawn as SVG from the figures onboardd counts. Each is
// also a table (the bars are decoration beside the numbers, aria-hidden), so that a screen
// reader reads the figures and nothing is shown that is not counted.

import { el, clear, num, counts } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// A bar 0..100 % wide for a table cell.
function bar(fraction, cls) {
  const s = svg('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', class: 'bar ' + (cls || ''), 'aria-hidden': 'true', focusable: 'false' });
  s.append(svg('rect', { x: 0, y: 0, height: 10, width: Math.max(0, Math.min(100, fraction * 100)).toFixed(2) }));
  return s;
}

// rows: [{label, count, key}] in the order to show; chart: the name for data-chart.
export function barTable(container, caption, rows, chart) {
  clear(container);
  const max = rows.reduce((m, r) => Math.max(m, r.count), 0);
  const total = rows.reduce((s, r) => s + r.count, 0);
  const body = el('tbody');
  for (const r of rows) {
    body.append(el('tr', { 'data-key': r.key },
      el('th', { scope: 'row' }, r.label),
      el('td', { class: 'num', 'data-count': r.count }, num(r.count)),
      el('td', { class: 'barcell' }, bar(max > 0 ? r.count / max : 0))));
  }
  const t = el('table', { class: 'bars', 'data-chart': chart },
    el('caption', { class: 'sr-only' }, caption + ' (' + num(total) + ' in all)'),
    el('thead', { class: 'sr-only' }, el('tr', {},
      el('th', { scope: 'col' }, 'Key'), el('th', { scope: 'col' }, 'Count'), el('td'))),
    body);
  if (rows.length === 0) container.append(el('p', { class: 'hint' }, 'None yet.'));
  else container.append(t);
}

// Days between two "YYYY-MM-DD" dates (UTC arithmetic on civil dates).
function dayNumber(d) { return Math.round(Date.parse(d + 'T00:00:00Z') / 86400000); }
function dayString(n) { return new Date(n * 86400000).toISOString().slice(0, 10); }

// New applications per day over the programme, with its dates marked: marks are
// [{from, to?, label, cls}] (a band when to is given, else a line).
export function perDay(container, perDayCounts, marks) {
  clear(container);
  const days = counts(perDayCounts);
  const dates = [...days.keys(), ...marks.flatMap(m => m.to ? [m.from, m.to] : [m.from])].filter(Boolean);
  if (dates.length === 0) { container.append(el('p', { class: 'hint' }, 'No applications yet.')); return; }
  let first = Math.min(...dates.map(dayNumber)), last = Math.max(...dates.map(dayNumber));
  if (last - first > 730) last = first + 730; // a programme runs months, not years
  const n = last - first + 1, max = Math.max(1, ...days.values());
  const W = 800, H = 220, pad = { l: 36, r: 8, t: 26, b: 26 };
  const x = d => pad.l + (d - first) * (W - pad.l - pad.r) / n;
  const y = c => H - pad.b - c * (H - pad.t - pad.b) / max;
  const total = [...days.values()].reduce((a, b) => a + b, 0);
  const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'perday', role: 'img', 'aria-labelledby': 'perday-svg-title perday-svg-desc' });
  const title = svg('title', { id: 'perday-svg-title' }); title.textContent = 'New applications per day';
  const desc = svg('desc', { id: 'perday-svg-desc' });
  desc.textContent = `${num(total)} applications on ${days.size} days from ${dayString(first)} to ${dayString(last)}; ` +
    marks.map(m => m.label + ' ' + m.from + (m.to ? ' to ' + m.to : '')).join('; ') + '. The table below lists them.';
  s.append(title, desc);
  for (const m of marks.filter(m => m.to)) {
    const a = dayNumber(m.from), b = dayNumber(m.to);
    s.append(svg('rect', { class: 'band ' + m.cls, x: x(a), y: pad.t, width: Math.max(1, x(b + 1) - x(a)), height: H - pad.t - pad.b }));
  }
  const bw = Math.max(1, (W - pad.l - pad.r) / n - 1);
  for (const [d, c] of days) {
    const dn = dayNumber(d);
    if (dn < first || dn > last) continue;
    s.append(svg('rect', { class: 'day', x: x(dn), y: y(c), width: bw, height: H - pad.b - y(c) }));
  }
  let row = 0;
  for (const m of marks) {
    const at = x(dayNumber(m.from));
    if (!m.to) s.append(svg('line', { class: 'mark ' + m.cls, x1: at, x2: at, y1: pad.t - 4, y2: H - pad.b }));
    const t = svg('text', { class: 'marklabel', x: Math.min(at + 3, W - 150), y: 10 + 9 * (row++ % 2) });
    t.textContent = m.label;
    s.append(t);
  }
  for (const [v, label] of [[0, '0'], [max, num(max)]]) {
    const t = svg('text', { class: 'axis', x: pad.l - 4, y: y(v) + 4, 'text-anchor': 'end' });
    t.textContent = label;
    s.append(t);
  }
  for (const d of [first, last]) {
    const t = svg('text', { class: 'axis', x: d === first ? pad.l : W - pad.r, y: H - 8, 'text-anchor': d === first ? 'start' : 'end' });
    t.textContent = dayString(d);
    s.append(t);
  }
  s.append(svg('line', { class: 'axisline', x1: pad.l, x2: W - pad.r, y1: H - pad.b, y2: H - pad.b }));
  const legend = el('ul', { class: 'legend' }, ...marks.map(m =>
    el('li', { class: m.cls }, m.label + ': ' + m.from + (m.to ? ' – ' + m.to : ''))));
  const table = el('table', { 'data-chart': 'per-day' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Day (Paris)'), el('th', { scope: 'col' }, 'New applications'))),
    el('tbody', {}, ...[...days].sort().map(([d, c]) =>
      el('tr', { 'data-key': d }, el('th', { scope: 'row' }, d), el('td', { class: 'num', 'data-count': c }, num(c))))));
  container.append(s, legend, el('details', {}, el('summary', {}, 'The figures, day by day'), table));
}
