// The administrator's mailbox pages: the list (searched and paged by the server, so 10,000 mailboxes cost
// one page of rows) and one mailbox with its messages and greetings.
import { h, show, status } from './dom.js';
import { admin, seg } from './api.js';
import { messagesSection } from './messages.js';

const PAGE_SIZE = 50;
const GREETING_KINDS = [['unavailable', 'Unavailable'], ['busy', 'Busy'], ['temporary', 'Temporary'], ['name', 'Recorded name']];

/**
 * A URL the <audio> element can fetch without our bearer header (it cannot send one): the server signs the
 * path for a few minutes (media-links.ts), and serves it with range requests so seeking works.
 */
export async function mediaLink(path) {
  const { url } = await admin('POST', '/api/web/media-links', { body: { path } });
  return url;
}

export async function mailboxesPage(query) {
  const search = query.get('search') ?? '';
  const offset = Math.max(0, Number(query.get('offset')) || 0);
  const page = await admin('GET', `/api/mailboxes?search=${seg(search)}&offset=${offset}&limit=${PAGE_SIZE}`);
  const go = (q, o) => (location.hash = `#/mailboxes?search=${seg(q)}&offset=${o}`);

  let timer;
  const box = h('input', { type: 'search', id: 'search', value: search, placeholder: 'Number, name or email', oninput: () => {
    clearTimeout(timer);
    timer = setTimeout(() => go(box.value.trim(), 0), 250);
  } });
  const last = offset + page.items.length;
  const rows = page.items.map((m) => h('tr', {},
    h('td', {}, h('a', { href: `#/mailbox/${seg(m.number)}` }, m.number)),
    h('td', {}, m.name),
    h('td', {}, m.email ?? ''),
    h('td', {}, m.aliases.join(', ')),
    h('td', {}, m.locked ? 'locked' : '')));
  show(
    h('h1', {}, 'Mailboxes'),
    h('div', { class: 'toolbar' },
      box,
      h('span', { class: 'grow muted', id: 'range' }, page.total === 0 ? 'No mailboxes' : `${offset + 1}–${last} of ${page.total}`),
      h('button', { id: 'prev', disabled: offset === 0, onclick: () => go(search, Math.max(0, offset - PAGE_SIZE)) }, 'Previous'),
      h('button', { id: 'next', disabled: last >= page.total, onclick: () => go(search, offset + PAGE_SIZE) }, 'Next')),
    h('table', { id: 'mailboxes' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Number'), h('th', {}, 'Name'), h('th', {}, 'Email'), h('th', {}, 'Aliases'), h('th', {}, ''))),
      h('tbody', {}, rows)));
  // Keep typing where it was after the page is redrawn by a search.
  if (query.has('search')) {
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }
  return () => clearTimeout(timer);
}

export async function mailboxPage(number) {
  const base = `/api/mailboxes/${seg(number)}`;
  const mailbox = await admin('GET', base);
  const messages = messagesSection({
    list: async () => {
      const r = await admin('GET', `${base}/messages`);
      return Array.isArray(r) ? r : r.items;
    },
    audioUrl: (m) => mediaLink(m.audio),
    setHeard: (m, heard) => admin('PATCH', `${base}/messages/${seg(m.id)}`, { body: { heard } }),
    remove: (m) => admin('DELETE', `${base}/messages/${seg(m.id)}`),
  });
  show(
    h('h1', {}, `${mailbox.number} ${mailbox.name}`),
    h('p', { class: 'muted', id: 'mailbox-summary' }, `${mailbox.counts.new} new, ${mailbox.counts.saved} saved · `, mailbox.email ?? 'no email', mailbox.aliases.length ? ` · aliases ${mailbox.aliases.join(', ')}` : '', mailbox.locked ? ' · locked' : ''),
    h('h2', {}, 'Messages'),
    messages.section,
    h('h2', {}, 'Greetings'),
    greetingsSection(base, mailbox));
  await messages.reload();
}

function greetingsSection(base, mailbox) {
  const recorded = new Set(mailbox.greetings);
  return h('table', { id: 'greetings' }, h('tbody', {}, GREETING_KINDS.map(([kind, label]) => {
    const path = `${base}/greetings/${kind}`;
    const audio = h('audio', { controls: true, preload: 'metadata', hidden: !recorded.has(kind) });
    const note = h('span', { class: 'muted', hidden: recorded.has(kind) }, 'not recorded');
    const remove = h('button', { class: 'danger', 'data-action': 'delete-greeting', hidden: !recorded.has(kind), onclick: async () => {
      try {
        await admin('DELETE', path);
        status(`${label} greeting deleted`);
        audio.removeAttribute('src');
        audio.hidden = true;
        remove.hidden = true;
        note.hidden = false;
      } catch (err) {
        status(`Delete failed: ${err.message}`, true);
      }
    } }, 'Delete');
    const showRecorded = async () => {
      audio.src = await mediaLink(path);
      audio.hidden = false;
      remove.hidden = false;
      note.hidden = true;
    };
    const file = h('input', { type: 'file', accept: 'audio/*,.wav', 'data-kind': kind, onchange: async () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      try {
        // Any common format: the server converts it to the phone's 8 kHz WAV.
        await admin('PUT', path, { body: chosen, headers: { 'content-type': chosen.type || 'application/octet-stream' } });
        status(`${label} greeting uploaded`);
        await showRecorded();
      } catch (err) {
        status(`Upload failed: ${err.message}`, true);
      } finally {
        file.value = '';
      }
    } });
    if (recorded.has(kind)) showRecorded().catch((err) => status(err.message, true));
    return h('tr', { 'data-kind': kind }, h('th', {}, label), h('td', {}, audio, note), h('td', { class: 'actions' }, file, remove));
  })));
}
