// Live calls, refreshed every 2 s while the page is open, each with a hang-up button.
import { h, show, status, duration } from './dom.js';
import { admin, seg } from './api.js';

const REFRESH_MS = 2000;

export async function callsPage() {
  const body = h('tbody');
  const count = h('span', { class: 'muted', id: 'call-count' });
  const refresh = async () => {
    const r = await admin('GET', '/api/calls');
    const calls = Array.isArray(r) ? r : r.items;
    count.textContent = calls.length === 1 ? '1 call' : `${calls.length} calls`;
    body.replaceChildren(...calls.map((c) => h('tr', { 'data-id': c.id },
      h('td', {}, c.app ?? c.service ?? ''),
      h('td', {}, c.from ?? ''),
      h('td', {}, c.number ?? c.to ?? ''),
      h('td', { class: 'num' }, c.startedAt ? duration(Date.now() - c.startedAt) : ''),
      h('td', {}, h('button', { class: 'danger', 'data-action': 'hangup', onclick: async () => {
        try {
          await admin('DELETE', `/api/calls/${seg(c.id)}`);
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
    h('table', { id: 'calls' }, h('thead', {}, h('tr', {}, h('th', {}, 'App'), h('th', {}, 'From'), h('th', {}, 'To'), h('th', { class: 'num' }, 'Time'), h('th', {}, ''))), body));
  await refresh();
  const timer = setInterval(() => refresh().catch((err) => status(err.message, true)), REFRESH_MS);
  return () => clearInterval(timer);
}
