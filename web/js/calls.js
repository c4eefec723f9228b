// Live calls, refreshed every 2 s while the page is open, each with a hang-up button.
import { h, show, status, duration } from './dom.js';
import { admin, seg } from './api.js';

const REFRESH_MS = 2000;

export async function callsPage() {
  const body = h('tbody');
  const count = h('span', { class: 'muted', id: 'call-count' });
  const refresh = async () => {
    const { items } = await admin('GET', '/api/live-calls');
    count.textContent = items.length === 1 ? '1 call' : `${items.length} calls`;
    body.replaceChildren(...items.map((c) => h('tr', { 'data-call-id': c.callId },
      h('td', {}, c.app),
      h('td', {}, c.fromName ? `${c.fromName} ` : '', h('span', { class: 'muted' }, c.from || 'unknown')),
      h('td', {}, c.number),
      h('td', { class: 'muted' }, c.source, c.worker !== undefined ? ` (worker ${c.worker})` : ''),
      h('td', { class: 'num' }, duration(Date.now() - Date.parse(c.startedAt))),
      h('td', {}, h('button', { class: 'danger', 'data-action': 'hangup', onclick: async () => {
        try {
          await admin('DELETE', `/api/live-calls/${seg(c.callId)}`);
          status('Call ended');
          await refresh();
        } catch (err) {
          status(`Hang-up failed: ${err.message}`, true);
        }
      } }, 'Hang up')))));
  };
  show(
    h('h1', {}, 'Live calls'),
    h('div', { class: 'toolbar' }, count),
    h('table', { id: 'calls' },
      h('thead', {}, h('tr', {}, h('th', {}, 'App'), h('th', {}, 'From'), h('th', {}, 'Dialled'), h('th', {}, 'Via'), h('th', { class: 'num' }, 'Time'), h('th', {}, ''))),
      body));
  await refresh();
  const timer = setInterval(() => refresh().catch((err) => status(err.message, true)), REFRESH_MS);
  return () => clearInterval(timer);
}
