/**
 * Compares two stores' whole content (replica/types.ts): `mirror verify`, and the check at the end of
 * `store copy` and `mirror restore`. Rows field by field, and audio by sha256 of its bytes (every message's
 * and every greeting's, read on both sides: a verify is meant to catch a damaged copy, so it trusts no cache of
 * message audio).
 *
 * Not compared: what replica/types.ts does not keep (PIN back-off state, counters, recordings in progress).
 */
import { createHash } from 'node:crypto';
import { mailboxFingerprint, messageFingerprint } from './reconcile.js';
import type { MessageContent, StoreReplica } from './types.js';

export interface Difference {
  what: 'mailbox' | 'message' | 'greeting' | 'subscription' | 'directory ownership';
  /** Mailbox number, message id, "mailbox/kind", subscription id or directory entry id. */
  key: string;
  /** What differs, in words ("only on the primary", "audio differs", "folder: new / saved"). */
  detail: string;
}

export interface Comparison {
  /** What each side holds. */
  counts: { a: StoreCounts; b: StoreCounts };
  differences: Difference[];
}

export interface StoreCounts {
  mailboxes: number;
  messages: number;
  greetings: number;
  subscriptions: number;
  audioBytes: number;
}

export interface CompareOptions {
  /** Names of the two sides in the differences' words. Default 'a' and 'b'. */
  names?: [string, string];
  /** Also compare MWI subscriptions. Default true. */
  subscriptions?: boolean;
  /** Told as message audio is checked: done and total. */
  onProgress?(done: number, total: number): void;
}

const sha256 = (data: Buffer | undefined): string | undefined => data && createHash('sha256').update(data).digest('hex');

/** The keys on one side only and the keys on both whose fingerprints differ. */
function diffMaps<T>(
  a: Map<string, T>,
  b: Map<string, T>,
  fingerprint: (t: T) => string,
  report: (key: string, detail: string, x?: T, y?: T) => void,
  names: [string, string],
): void {
  for (const [key, x] of a) {
    const y = b.get(key);
    if (y === undefined) report(key, `only on the ${names[0]}`, x);
    else if (fingerprint(x) !== fingerprint(y)) report(key, 'differs', x, y);
  }
  for (const [key, y] of b) if (!a.has(key)) report(key, `only on the ${names[1]}`, undefined, y);
}

/** Which fields of two versions of a record differ, as "field: a / b". */
function fieldChanges(x: object, y: object): string {
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  const parts: string[] = [];
  for (const k of keys) {
    const vx = JSON.stringify((x as Record<string, unknown>)[k]);
    const vy = JSON.stringify((y as Record<string, unknown>)[k]);
    if (vx !== vy) parts.push(`${k}: ${vx ?? 'absent'} / ${vy ?? 'absent'}`);
  }
  return parts.join('; ');
}

export async function compareStores(a: StoreReplica, b: StoreReplica, opts: CompareOptions = {}): Promise<Comparison> {
  const names = opts.names ?? ['a', 'b'];
  const differences: Difference[] = [];
  const add = (what: Difference['what']) => (key: string, detail: string, x?: object, y?: object) =>
    differences.push({ what, key, detail: x && y ? fieldChanges(x, y) || detail : detail });

  const [boxesA, boxesB] = await Promise.all([a.mailboxes(), b.mailboxes()]);
  diffMaps(new Map(boxesA.map((m) => [m.number, m])), new Map(boxesB.map((m) => [m.number, m])), mailboxFingerprint, add('mailbox'), names);

  const [greetA, greetB] = await Promise.all([a.greetings(), b.greetings()]);
  const gKey = (g: { mailbox: string; kind: string }): string => `${g.mailbox}/${g.kind}`;
  diffMaps(new Map(greetA.map((g) => [gKey(g), g])), new Map(greetB.map((g) => [gKey(g), g])), (g) => g.sha256, (key, detail, x, y) =>
    differences.push({ what: 'greeting', key, detail: x && y ? 'audio differs' : detail }), names);

  const [msgA, msgB] = await Promise.all([a.messages(), b.messages()]);
  const mapB = new Map(msgB.map((m) => [m.id, m]));
  diffMaps(new Map(msgA.map((m) => [m.id, m])), mapB, messageFingerprint, add('message'), names);

  const audioBytes = { a: 0, b: 0 };
  const both = msgA.filter((m) => mapB.has(m.id));
  let done = 0;
  opts.onProgress?.(0, both.length);
  for (const m of both) {
    const [x, y] = await Promise.all([a.messageAudio(m), b.messageAudio(mapB.get(m.id) as MessageContent)]);
    audioBytes.a += x?.length ?? 0;
    audioBytes.b += y?.length ?? 0;
    if (x === undefined || y === undefined) {
      differences.push({ what: 'message', key: m.id, detail: `audio missing on the ${x === undefined ? names[0] : names[1]}` });
    } else if (sha256(x) !== sha256(y)) {
      differences.push({ what: 'message', key: m.id, detail: 'audio differs' });
    }
    opts.onProgress?.(++done, both.length);
  }

  let subsA = 0;
  let subsB = 0;
  if (opts.subscriptions ?? true) {
    const [sa, sb] = await Promise.all([a.subscriptions(), b.subscriptions()]);
    subsA = sa.length;
    subsB = sb.length;
    diffMaps(new Map(sa.map((s) => [s.id, s])), new Map(sb.map((s) => [s.id, s])), (s) => JSON.stringify([s.mailbox, s.source, s.expiresAt, s.data]), add('subscription'), names);
  }

  const [oa, ob] = await Promise.all([a.directoryOwned(), b.directoryOwned()]);
  diffMaps(new Map(oa.map((o) => [o.entryId, o])), new Map(ob.map((o) => [o.entryId, o])), (o) => JSON.stringify([o.number, o.dn, o.disabled]), add('directory ownership'), names);

  const count = (boxes: unknown[], msgs: unknown[], greets: unknown[], subs: number, bytes: number): StoreCounts => ({
    mailboxes: boxes.length,
    messages: msgs.length,
    greetings: greets.length,
    subscriptions: subs,
    audioBytes: bytes,
  });
  return { counts: { a: count(boxesA, msgA, greetA, subsA, audioBytes.a), b: count(boxesB, msgB, greetB, subsB, audioBytes.b) }, differences };
}
