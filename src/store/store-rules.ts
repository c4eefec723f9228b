/**
 * Rules every store engine applies the same way (sqlite.ts, postgres.ts): what a mailbox number and a
 * provisioning spec must be, the quota arithmetic, message play order, and grouping rows per mailbox.
 */
import { DIAL_STRING } from '../config/fields.js';
import type { MailboxSpec } from './types.js';

/** Messages that count: not in the deleted folder (SQL, both engines). */
export const IN_BOX = "folder IN ('new', 'saved')";
/** Play order (types.ts listMessages): new, saved, deleted; urgent first; oldest first (SQL, both engines). */
export const PLAY_ORDER = "ORDER BY CASE folder WHEN 'new' THEN 0 WHEN 'saved' THEN 1 ELSE 2 END, urgent DESC, received_at, id";

export function checkNumber(number: string, what: string): void {
  if (typeof number !== 'string' || !DIAL_STRING.test(number)) throw new TypeError(`${what} "${String(number)}" is not a number (digits, * and #, optionally after +)`);
}

export function checkSpec(spec: MailboxSpec): void {
  checkNumber(spec.number, 'mailbox number');
  for (const alias of spec.aliases ?? []) checkNumber(alias, 'alias');
  if (typeof spec.name !== 'string' || spec.name.trim() === '') throw new TypeError(`mailbox ${spec.number} needs a name`);
  if (typeof spec.pin !== 'string' || spec.pin === '') throw new TypeError(`mailbox ${spec.number} needs a PIN`);
}

/** The store-wide quota defaults (voicemail.maxMessages / maxMinutes); 0 = no limit. */
export interface QuotaDefaults {
  maxMessages?: number;
  maxMinutes?: number;
}

/** A mailbox's limits: its own when nonzero, else the store's default; 0 = no limit. */
export function quotaOf(row: { max_messages: number; max_minutes: number }, defaults: QuotaDefaults): { maxMessages: number; maxMs: number } {
  const maxMessages = row.max_messages || defaults.maxMessages || 0;
  const maxMinutes = row.max_minutes || defaults.maxMinutes || 0;
  return { maxMessages, maxMs: maxMinutes * 60_000 };
}

/** Whether one more message fits: checked before a message (the one that crosses the limit is kept). */
export function roomLeft(limits: { maxMessages: number; maxMs: number }, used: { n: number; ms: number }): boolean {
  return (limits.maxMessages === 0 || used.n < limits.maxMessages) && (limits.maxMs === 0 || used.ms < limits.maxMs);
}

type Grouped = { mailbox: string; value: string };

/** Values per mailbox, in the order the rows came. */
export function groupBy(rows: readonly Grouped[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { mailbox, value } of rows) {
    const list = out.get(mailbox);
    if (list) list.push(value);
    else out.set(mailbox, [value]);
  }
  return out;
}

/** Runs tasks one after the other per key (deposits per mailbox: two callers cannot both take the last slot). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /** Resolves when every task queued so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.tails.values());
  }
}
