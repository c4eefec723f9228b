/*
 * reconcile.ts: one mailbox's read state between the store and IMAP, merged three-way against the last agreed
 * state. Covers: first sight (OR), each side's change winning, read/unread and delete/undelete both ways, an
 * expunge, a purge, duplicates, what gets appended, and that applying a plan leaves nothing to do (no loop).
 * Does not cover: IMAP or the store themselves (test/integration/unified-imap.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { reconcile, type AgreedState, type ImapCopy, type ReconcileInput } from '../../src/unified/reconcile.js';
import type { MessageRecord } from '../../src/store/types.js';

const msg = (id: string, over: Partial<MessageRecord> = {}): MessageRecord => ({
  id, mailbox: '27000', folder: 'new', from: '4455', fromName: 'Bob', receivedAt: 1000, durationMs: 1000,
  urgent: false, heard: false, reason: 'no-answer', audioPath: `/x/${id}.wav`, ...over,
});
const copy = (id: string, uid: number, over: Partial<ImapCopy> = {}): ImapCopy => ({ uid, id, seen: false, deleted: false, ...over });
const plan = (over: Partial<ReconcileInput>) =>
  reconcile({ messages: [], copies: [], base: new Map(), gone: new Set(), appendSince: 0, ...over });
const base = (id: string, s: AgreedState) => new Map([[id, s]]);

describe('reconcile', () => {
  it('with no agreed state, read or deleted on either side wins (OR)', () => {
    const p = plan({ messages: [msg('a', { heard: true, folder: 'saved' }), msg('b')], copies: [copy('a', 1), copy('b', 2, { seen: true })] });
    expect(p.imap).toEqual([{ uid: 1, add: ['\\Seen'], remove: [] }]);
    expect(p.store).toEqual([{ id: 'b', action: 'heard' }]);
  });

  it('\\Seen set in IMAP since the agreed state marks the message heard', () => {
    const p = plan({ messages: [msg('a')], copies: [copy('a', 1, { seen: true })], base: base('a', { read: false, deleted: false }) });
    expect(p.store).toEqual([{ id: 'a', action: 'heard' }]);
    expect(p.imap).toEqual([]);
  });

  it('unread in the client moves a listened message back to new', () => {
    const p = plan({ messages: [msg('a', { heard: true, folder: 'saved' })], copies: [copy('a', 1)], base: base('a', { read: true, deleted: false }) });
    expect(p.store).toEqual([{ id: 'a', action: 'folder', folder: 'new' }]);
  });

  it('deleted by phone sets \\Deleted; undeleted by phone removes it', () => {
    const del = plan({ messages: [msg('a', { folder: 'deleted' })], copies: [copy('a', 1)], base: base('a', { read: false, deleted: false }) });
    expect(del.imap).toEqual([{ uid: 1, add: ['\\Deleted'], remove: [] }]);
    const undel = plan({ messages: [msg('a', { folder: 'saved', heard: true })], copies: [copy('a', 1, { seen: true, deleted: true })], base: base('a', { read: true, deleted: true }) });
    expect(undel.imap).toEqual([{ uid: 1, add: [], remove: ['\\Deleted'] }]);
  });

  it('\\Deleted or an expunge in the client deletes the message in the store', () => {
    const flagged = plan({ messages: [msg('a')], copies: [copy('a', 1, { deleted: true })], base: base('a', { read: false, deleted: false }) });
    expect(flagged.store).toEqual([{ id: 'a', action: 'folder', folder: 'deleted' }]);
    const expunged = plan({ messages: [msg('a')], base: base('a', { read: false, deleted: false }) });
    expect(expunged.store).toEqual([{ id: 'a', action: 'folder', folder: 'deleted' }]);
  });

  it('appends what IMAP never had (received since appendSince), and deletes purged and duplicate emails', () => {
    const p = plan({
      messages: [msg('old', { receivedAt: 10 }), msg('new1', { receivedAt: 100 })],
      copies: [copy('x', 5), copy('d', 6), copy('d', 7), copy('stranger', 8)],
      gone: new Set(['x', 'stranger']),
      base: base('x', { read: false, deleted: false }),
      appendSince: 50,
    });
    expect(p.append).toEqual(['new1']);
    expect(p.imap).toEqual(expect.arrayContaining([{ uid: 7, add: ['\\Deleted'], remove: [] }, { uid: 5, add: ['\\Deleted'], remove: [] }]));
  });

  it('leaves alone an email whose id this store never had (another installation sharing the account)', () => {
    const p = plan({ copies: [copy('stranger', 9)], gone: new Set(['stranger']) });
    expect(p.imap).toEqual([]);
    expect(p.store).toEqual([]);
  });

  it('applying a plan leaves nothing to do: a change coming back does not bounce', () => {
    const first = plan({ messages: [msg('a')], copies: [copy('a', 1, { seen: true })], base: base('a', { read: false, deleted: false }) });
    // The store applied "heard"; IMAP's FETCH FLAGS and the store's counts event lead to a second comparison.
    const second = plan({ messages: [msg('a', { heard: true, folder: 'saved' })], copies: [copy('a', 1, { seen: true })], base: first.agreed });
    expect(second.store).toEqual([]);
    expect(second.imap).toEqual([]);
  });
});
