// A mailbox's messages as a table with one audio player, used by the administrator's mailbox page and the
// owner's own page: what differs (which API, how the audio is reached) comes in `ops`.
import { h, duration, when, status } from './dom.js';

/**
 * ops: {
 *   list(): Promise<message[]>,
 *   audioUrl(message): Promise<string>   a URL the <audio> element fetches itself (range requests: seeking),
 *   setHeard(message, heard): Promise,
 *   remove(message): Promise,
 * }
 */
export function messagesSection(ops) {
  const audio = h('audio', { controls: true, preload: 'none', id: 'player' });
  const nowPlaying = h('span', { class: 'muted' }, 'Choose a message to play.');
  const body = h('tbody');
  const table = h('table', { id: 'messages' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Received'), h('th', {}, 'From'), h('th', { class: 'num' }, 'Length'), h('th', {}, 'Folder'), h('th', {}, ''))),
    body);
  const empty = h('p', { class: 'muted', hidden: true }, 'No messages.');

  async function play(m) {
    try {
      audio.src = await ops.audioUrl(m);
      audio.dataset.message = m.id;
      nowPlaying.textContent = `${m.fromName || m.from || 'Unknown caller'}, ${when(m.receivedAt)}`;
      await audio.play();
    } catch (err) {
      status(`Cannot play: ${err.message}`, true);
    }
  }

  async function act(what, promise) {
    try {
      await promise;
      status(what);
      await reload();
    } catch (err) {
      status(`${what} failed: ${err.message}`, true);
    }
  }

  function row(m) {
    const heard = m.heard;
    return h('tr', { class: heard ? '' : 'unheard', 'data-id': m.id },
      h('td', {}, when(m.receivedAt), m.urgent ? h('strong', { class: 'error' }, ' urgent') : ''),
      h('td', {}, m.fromName ? `${m.fromName} ` : '', h('span', { class: 'muted' }, m.from || 'unknown')),
      h('td', { class: 'num' }, duration(m.durationMs)),
      h('td', {}, m.folder),
      h('td', { class: 'actions' },
        h('button', { class: 'primary', 'data-action': 'play', onclick: () => play(m) }, 'Play'),
        h('button', { 'data-action': heard ? 'unread' : 'read', onclick: () => act(heard ? 'Marked unread' : 'Marked read', ops.setHeard(m, !heard)) }, heard ? 'Mark unread' : 'Mark read'),
        h('button', { class: 'danger', 'data-action': 'delete', onclick: () => act('Deleted', ops.remove(m)) }, 'Delete')));
  }

  async function reload() {
    const list = (await ops.list()).filter((m) => m.folder !== 'deleted');
    body.replaceChildren(...list.map(row));
    empty.hidden = list.length > 0;
    table.hidden = list.length === 0;
  }

  const section = h('section', {}, h('div', { class: 'player' }, nowPlaying, audio), table, empty);
  return { section, reload };
}
