/**
 * The subscriptions file of earlier versions (`<storage.dir>/subscriptions.json`), read once at start to
 * import its subscriptions into the message store (subscription-journal.ts keeps them there since; the file
 * was rewritten whole on every change, issue 9 item 5):
 *
 *   { "version": 1, "subscriptions": [ SubscriptionRecord, ... ] }
 *
 * Also the check that a record (from the file, or a store row's JSON) is one toRecord() wrote.
 */
import { readFile, rename } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SubscriptionRecord } from './subscription.js';

const VERSION = 1;

/** The records in the file; none when it does not exist. A damaged file is logged and set aside. */
export async function readSubscriptionFile(path: string, log: Logger): Promise<SubscriptionRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const aside = `${path}.damaged-${Date.now()}`;
    log.error({ err, file: path, movedTo: aside }, 'subscriptions file is not JSON; not imported');
    await rename(path, aside).catch(() => undefined);
    return [];
  }
  const list = isObject(data) && data.version === VERSION && Array.isArray(data.subscriptions) ? data.subscriptions : undefined;
  if (!list) {
    log.error({ file: path }, 'subscriptions file has an unknown layout; not imported');
    return [];
  }
  const records = list.filter(isSubscriptionRecord);
  if (records.length < list.length) log.warn({ file: path, skipped: list.length - records.length }, 'malformed subscription records skipped');
  return records;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A record as written by toRecord(); anything else (hand edits, other versions) is refused. */
export function isSubscriptionRecord(v: unknown): v is SubscriptionRecord {
  if (!isObject(v) || !isString(v.mailbox) || !isString(v.account) || !isNumber(v.expiresAt)) return false;
  const e = v.event;
  if (!isObject(e) || !isString(e.type) || (e.id !== undefined && !isString(e.id))) return false;
  const d = v.dialog;
  return (
    isObject(d) &&
    isString(d.callId) &&
    isString(d.localTag) &&
    isString(d.remoteTag) &&
    isString(d.localUri) &&
    isString(d.remoteUri) &&
    isString(d.remoteTarget) &&
    Array.isArray(d.routeSet) &&
    d.routeSet.every(isString) &&
    isNumber(d.localSeq) &&
    (d.remoteSeq === undefined || isNumber(d.remoteSeq)) &&
    isString(d.localContact) &&
    typeof d.secure === 'boolean'
  );
}
