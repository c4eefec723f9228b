// Web voicemail: a mailbox owner's own messages, through /api/me (the session cookie names the mailbox; the
// server answers for that mailbox only).
import { h, show } from './dom.js';
import { owner, seg } from './api.js';
import { messagesSection } from './messages.js';

export async function ownerPage() {
  const me = await owner('GET', '/api/me');
  const messages = messagesSection({
    list: () => owner('GET', '/api/me/messages'),
    // Same origin, so the <audio> element's own requests carry the session cookie: no signed link needed.
    audioUrl: async (m) => m.audio,
    setHeard: (m, heard) => owner('PATCH', `/api/me/messages/${seg(m.id)}`, { body: { heard } }),
    remove: (m) => owner('DELETE', `/api/me/messages/${seg(m.id)}`),
  });
  show(h('h1', {}, `Mailbox ${me.number}`, me.name ? ` · ${me.name}` : ''), messages.section);
  await messages.reload();
}
