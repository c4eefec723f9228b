/**
 * Makes a target store hold what a source store holds (replica/types.ts): the one algorithm behind
 * `store copy`, `mirror restore`, the mirror's per-mailbox updates and its periodic sweep (seed 000: "any new
 * messages are copied, any messages deleted from the production are deleted from the DR site, message status
 * changes are replicated, greeting adds/changes/deletes are made to the DR as well", and the mailbox changes
 * its LDAP pass makes).
 *
 * The source is the truth: the target's extra mailboxes, messages and greetings are removed. Order keeps the
 * target's foreign keys and durability: mailboxes first (messages point at them), then messages (audio before
 * rows, in batches), greetings, and last the mailboxes the source no longer has (their messages are gone by
 * then). A message's content never changes after its deposit (only folder, heard and urgent do; its mailbox
 * when the mailbox is renumbered), so a message already on the target by id, in the same mailbox, is not
 * copied again; a greeting is re-copied when its digest differs.
 *
 * The source may be changing meanwhile (a live primary): a message purged between the listing and the read
 * of its audio is skipped, and the next pass settles it.
 */
import type { DirectoryOwned, StoredSubscription } from '../types.js';
import { MUTABLE_MESSAGE_FIELDS, type GreetingContent, type MailboxContent, type MessageContent, type QueuedImapAppend, type QueuedMail, type StoreReplica } from './types.js';

/** What one pass changed on the target. */
export interface ReconcileResult {
  mailboxesPut: number;
  mailboxesRemoved: number;
  messagesCopied: number;
  messagesUpdated: number;
  messagesRemoved: number;
  greetingsPut: number;
  greetingsRemoved: number;
  subscriptionsReplaced: boolean;
  /** The directory's ownership made the source's (whole-store passes). */
  ownershipReplaced: boolean;
  /** The pending new-message mails made the source's (of the pass's mailboxes). */
  mailQueueReplaced: boolean;
  /** The pending IMAP appends made the source's (of the pass's mailboxes). */
  imapAppendsReplaced: boolean;
  /** Audio bytes copied (messages and greetings). */
  bytes: number;
}

export interface ReconcileOptions {
  /** Only these mailboxes (numbers); default: the whole store. */
  mailboxes?: readonly string[];
  /** Compare mailbox fields and greetings (default true); false: only the messages (a counts change). */
  mailboxFields?: boolean;
  /** Also make the MWI subscriptions identical (whole-store passes only). Default true. */
  subscriptions?: boolean;
  /** Told after each step of the messages' copy: done and total messages. */
  onProgress?(done: number, total: number): void;
  /** Told the messages of each batch once their rows are committed on the target. */
  onCopied?(messages: readonly MessageContent[]): void;
}

/** A batch of messages is committed at this many messages or this much audio, whichever comes first. */
const BATCH_MESSAGES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;

export const emptyResult = (): ReconcileResult => ({
  mailboxesPut: 0,
  mailboxesRemoved: 0,
  messagesCopied: 0,
  messagesUpdated: 0,
  messagesRemoved: 0,
  greetingsPut: 0,
  greetingsRemoved: 0,
  subscriptionsReplaced: false,
  ownershipReplaced: false,
  mailQueueReplaced: false,
  imapAppendsReplaced: false,
  bytes: 0,
});

/** Whether a pass changed anything. */
export const changedAnything = (r: ReconcileResult): boolean =>
  r.mailboxesPut + r.mailboxesRemoved + r.messagesCopied + r.messagesUpdated + r.messagesRemoved + r.greetingsPut + r.greetingsRemoved > 0 ||
  r.subscriptionsReplaced ||
  r.ownershipReplaced ||
  r.mailQueueReplaced ||
  r.imapAppendsReplaced;

/** A mailbox's fields in a fixed order, aliases sorted: equal content gives equal text. */
export function mailboxFingerprint(m: MailboxContent): string {
  return JSON.stringify([
    m.number,
    m.name,
    m.email ?? null,
    m.emailAttachAudio,
    [...m.aliases].sort(),
    m.pinHash,
    m.mustChangePin,
    m.setupDone,
    m.locked,
    m.temporaryGreetingUntil ?? null,
    m.maxMessages,
    m.maxMinutes,
    m.hiddenFromDirectory,
    m.createdAt,
  ]);
}

/** A message's fields (all of them) in a fixed order. */
export function messageFingerprint(m: MessageContent): string {
  return JSON.stringify([m.id, m.mailbox, m.folder, m.from, m.fromName, m.receivedAt, m.durationMs, m.urgent, m.heard, m.reason, m.forwardedFrom ?? null]);
}

const subscriptionsFingerprint = (list: readonly StoredSubscription[]): string =>
  JSON.stringify([...list].sort((a, b) => (a.id < b.id ? -1 : 1)).map((s) => [s.id, s.mailbox, s.source, s.expiresAt, s.data]));

const ownershipFingerprint = (list: readonly DirectoryOwned[]): string =>
  JSON.stringify([...list].sort((a, b) => (a.entryId < b.entryId ? -1 : 1)).map((o) => [o.entryId, o.number, o.dn, o.disabled]));

/** Queue order is insertion order on each side (ids differ between stores): compared as listed. */
const mailQueueFingerprint = (list: readonly QueuedMail[]): string =>
  JSON.stringify(list.map((m) => [m.mailbox, m.messageId, m.payload, m.attempts, m.notBefore, m.queuedAt, m.lastError]));

const imapAppendsFingerprint = (list: readonly QueuedImapAppend[]): string =>
  JSON.stringify(list.map((a) => [a.messageId, a.mailbox, a.attempts, a.notBefore, a.queuedAt, a.lastError]));

const byKey = <T>(list: readonly T[], key: (t: T) => string): Map<string, T> => new Map(list.map((t) => [key(t), t]));
const greetingKey = (g: GreetingContent): string => `${g.mailbox}/${g.kind}`;


/** One pass: after it the target holds what the source held when each part was read. */
export async function reconcile(source: StoreReplica, target: StoreReplica, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const result = emptyResult();
  const fields = opts.mailboxFields ?? true;
  const [srcBoxes, dstBoxes] = await Promise.all([source.mailboxes(opts.mailboxes), target.mailboxes(opts.mailboxes)]);
  const dstByNumber = byKey(dstBoxes, (m) => m.number);
  const srcNumbers = new Set(srcBoxes.map((m) => m.number));

  for (const m of srcBoxes) {
    const there = dstByNumber.get(m.number);
    // A counts change cannot create a mailbox, but the target may lack it (it was down when it was made).
    if (there === undefined || (fields && mailboxFingerprint(there) !== mailboxFingerprint(m))) {
      await target.putMailbox(m);
      result.mailboxesPut++;
    }
  }

  await copyMessages(source, target, opts, srcNumbers, result);

  if (fields) await copyGreetings(source, target, opts.mailboxes, srcNumbers, result);

  for (const m of dstBoxes) {
    if (srcNumbers.has(m.number)) continue;
    await target.removeMailbox(m.number);
    result.mailboxesRemoved++;
  }

  if ((opts.subscriptions ?? true) && opts.mailboxes === undefined) {
    const [src, dst] = await Promise.all([source.subscriptions(), target.subscriptions()]);
    if (subscriptionsFingerprint(src) !== subscriptionsFingerprint(dst)) {
      await target.replaceSubscriptions(src);
      result.subscriptionsReplaced = true;
    }
  }
  if (opts.mailboxes === undefined) {
    const [src, dst] = await Promise.all([source.directoryOwned(), target.directoryOwned()]);
    if (ownershipFingerprint(src) !== ownershipFingerprint(dst)) {
      await target.replaceDirectoryOwned(src);
      result.ownershipReplaced = true;
    }
  }
  // The pass's mailboxes' pending mails (a deposit's comes with its message's counts change; a sent one leaves
  // the standby at the next pass over its mailbox, or the sweep).
  const [srcMail, dstMail] = await Promise.all([source.mailQueue(opts.mailboxes), target.mailQueue(opts.mailboxes)]);
  if (mailQueueFingerprint(srcMail) !== mailQueueFingerprint(dstMail)) {
    await target.replaceMailQueue(srcMail, opts.mailboxes);
    result.mailQueueReplaced = true;
  }
  // Likewise the pending IMAP appends (a deposit's is queued by its commit, store/leader-tables.ts).
  const [srcAppends, dstAppends] = await Promise.all([source.imapAppends(opts.mailboxes), target.imapAppends(opts.mailboxes)]);
  if (imapAppendsFingerprint(srcAppends) !== imapAppendsFingerprint(dstAppends)) {
    await target.replaceImapAppends(srcAppends, opts.mailboxes);
    result.imapAppendsReplaced = true;
  }
  return result;
}

async function copyMessages(
  source: StoreReplica,
  target: StoreReplica,
  opts: ReconcileOptions,
  srcNumbers: ReadonlySet<string>,
  result: ReconcileResult,
): Promise<void> {
  const [src, dst] = await Promise.all([source.messages(opts.mailboxes), target.messages(opts.mailboxes)]);
  const dstById = byKey(dst, (m) => m.id);
  const srcIds = new Set(src.map((m) => m.id));

  // Gone from the source: removed first, so that a mailbox removed below has none left.
  const gone = dst.filter((m) => !srcIds.has(m.id));
  await target.removeMessages(gone);
  result.messagesRemoved += gone.length;

  // A message in another mailbox on the target (the mailbox was renumbered) is copied again, as new.
  const moved = (m: MessageContent): boolean => dstById.get(m.id)?.mailbox !== m.mailbox;
  const changed = src.filter((m) => {
    const there = dstById.get(m.id);
    return there !== undefined && !moved(m) && MUTABLE_MESSAGE_FIELDS.some((f) => there[f] !== m[f]);
  });
  await target.updateMessages(changed.map(({ id, folder, heard, urgent }) => ({ id, folder, heard, urgent })));
  result.messagesUpdated += changed.length;

  // Only messages of mailboxes the target has now (a mailbox created after the listing waits for the next pass).
  const missing = src.filter((m) => moved(m) && srcNumbers.has(m.mailbox));
  let batch: { message: MessageContent; audio: Buffer }[] = [];
  let batchBytes = 0;
  let done = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await target.putMessages(batch);
    result.messagesCopied += batch.length;
    result.bytes += batchBytes;
    opts.onCopied?.(batch.map((b) => b.message));
    batch = [];
    batchBytes = 0;
  };
  opts.onProgress?.(0, missing.length);
  for (const message of missing) {
    const audio = await source.messageAudio(message);
    // Purged since the listing (or its audio lost on the source, which verify reports).
    if (audio !== undefined) {
      batch.push({ message, audio });
      batchBytes += audio.length;
      if (batch.length >= BATCH_MESSAGES || batchBytes >= BATCH_BYTES) await flush();
    }
    opts.onProgress?.(++done, missing.length);
  }
  await flush();
}

async function copyGreetings(
  source: StoreReplica,
  target: StoreReplica,
  mailboxes: readonly string[] | undefined,
  srcNumbers: ReadonlySet<string>,
  result: ReconcileResult,
): Promise<void> {
  const [src, dst] = await Promise.all([source.greetings(mailboxes), target.greetings(mailboxes)]);
  const dstByKey = byKey(dst, greetingKey);
  const srcKeys = new Set(src.map(greetingKey));
  for (const g of src) {
    if (!srcNumbers.has(g.mailbox) || dstByKey.get(greetingKey(g))?.sha256 === g.sha256) continue;
    const audio = await source.greetingAudio(g.mailbox, g.kind);
    if (audio === undefined) continue;
    await target.putGreeting(g.mailbox, g.kind, audio);
    result.greetingsPut++;
    result.bytes += audio.length;
  }
  for (const g of dst) {
    // A removed mailbox takes its greetings with it.
    if (srcKeys.has(greetingKey(g)) || !srcNumbers.has(g.mailbox)) continue;
    await target.putGreeting(g.mailbox, g.kind, undefined);
    result.greetingsRemoved++;
  }
}
