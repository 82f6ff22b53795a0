// The analytics panel: chats started per day (an inline SVG bar chart), median first
// response, CSAT with its 1-5 distribution and the share of chats abandoned (ended idle), for
// today, the last 7 or the last 30 UTC days. Every number is also text. Refreshed every
// five minutes while signed in (the figures are per day).
import { api } from './api.js';
import { $, element } from './dom.js';
import { clock } from './format.js';
import { every, notify, state } from './store.js';

const ANALYTICS_EVERY_MS = 5 * 60_000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { width: 240, height: 100, top: 8, bottom: 18 };

function utcDay(offsetDays) {
  const day = new Date(Date.now() + offsetDays * 86_400_000);
  return day.toISOString().slice(0, 10);
}

// Seconds as people say them: "45 s", "2 min", "1.5 h".
function duration(seconds) {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round((seconds / 60) * 10) / 10} min`;
  return `${Math.round((seconds / 3600) * 10) / 10} h`;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function drawChart(days) {
  const chart = $('analytics-chart');
  chart.querySelectorAll('g, text.axis').forEach((node) => node.remove());
  const most = Math.max(1, ...days.map((d) => d.sessionsCreated));
  const plot = CHART.height - CHART.top - CHART.bottom;
  const slot = CHART.width / days.length;
  const bars = svg('g', { class: 'bars' });
  days.forEach((day, i) => {
    const height = Math.round((day.sessionsCreated / most) * plot);
    const bar = svg('rect', {
      x: (i * slot + slot * 0.15).toFixed(2),
      y: CHART.top + plot - height,
      width: Math.max(1, slot * 0.7).toFixed(2),
      height,
      'data-date': day.date,
      'data-count': day.sessionsCreated,
    });
    bar.appendChild(svg('title', {}, `${day.date}: ${plural(day.sessionsCreated, 'chat', 'chats')}`));
    bars.appendChild(bar);
  });
  chart.appendChild(bars);
  // The baseline, so that days without chats still show as days.
  const baseline = svg('g', { class: 'baseline' });
  baseline.appendChild(svg('line', { x1: 0, x2: CHART.width, y1: CHART.top + plot + 0.5, y2: CHART.top + plot + 0.5 }));
  chart.appendChild(baseline);
  const first = days[0].date;
  const last = days[days.length - 1].date;
  chart.appendChild(svg('text', { class: 'axis', x: 0, y: CHART.height - 4 }, first.slice(5)));
  if (days.length > 1) {
    chart.appendChild(svg('text', { class: 'axis', x: CHART.width, y: CHART.height - 4, 'text-anchor': 'end' }, last.slice(5)));
  }
  $('analytics-chart-desc').textContent = `Chats started per day from ${first} to ${last}: `
    + days.map((d) => `${d.date} ${d.sessionsCreated}`).join(', ') + '.';
}

function renderRatings(ratings) {
  const list = $('analytics-ratings');
  list.replaceChildren();
  const most = Math.max(1, ...Object.values(ratings.distribution));
  for (const stars of ['5', '4', '3', '2', '1']) {
    const count = ratings.distribution[stars];
    const item = element('li', null);
    item.dataset.stars = stars;
    item.appendChild(element('span', 'label', `${plural(Number(stars), 'star', 'stars')}: ${count}`));
    const bar = svg('svg', {
      class: 'rating-bar', viewBox: '0 0 100 8', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false',
    });
    bar.appendChild(svg('rect', { x: 0, y: 0, height: 8, width: Math.round((count / most) * 100) }));
    item.appendChild(bar);
    list.appendChild(item);
  }
}

// The analytics view, from the last summary read.
export function renderAnalytics() {
  const data = state.analytics;
  const totals = data.totals;
  drawChart(data.days);
  $('analytics-started').textContent = `${totals.sessionsCreated} (${totals.guestSessions} as guests)`;
  const first = totals.firstResponseSeconds;
  $('analytics-first-response').textContent = first.count === 0
    ? 'No answered chats yet'
    : `At most ${duration(first.p50)} (average ${duration(first.average)}, ${plural(first.count, 'chat', 'chats')})`;
  const ratings = totals.ratings;
  $('analytics-csat').textContent = ratings.count === 0
    ? 'No ratings yet'
    : `${ratings.average.toFixed(1)} of 5 (${plural(ratings.count, 'rating', 'ratings')})`;
  const ended = totals.sessionsEnded;
  const endedAll = ended.byUser + ended.byAdmin + ended.idle;
  $('analytics-idle').textContent = endedAll === 0
    ? 'No ended chats yet'
    : `${Math.round((ended.idle / endedAll) * 100)}% (${ended.idle} of ${plural(endedAll, 'ended chat', 'ended chats')})`;
  renderRatings(ratings);
  $('analytics-updated').textContent = `${data.from} to ${data.to}, updated ${clock(new Date().toISOString())}`;
}

export async function refreshAnalytics() {
  const days = Number($('analytics-range').value);
  const query = `from=${utcDay(1 - days)}&to=${utcDay(0)}`;
  try {
    state.analytics = await api('GET', `/api/admin/analytics/summary?${query}`);
    notify('analytics');
    $('analytics-error').textContent = '';
  } catch (error) {
    if (error.code !== 'SIGNED_OUT') $('analytics-error').textContent = `Analytics unavailable: ${error.message}`;
    throw error;
  }
}

// Once signed in.
export function startAnalytics() {
  every(ANALYTICS_EVERY_MS, refreshAnalytics);
}
