/**
 * The PIN back-off's memory in SQLite (tables pin_failures and counters, schema.sql.ts migration 2): failures
 * per key, when the last one was, the earliest next try, and when the key last raised an alert. The policy's
 * arithmetic is pin-backoff.ts; the store's checkPin (sqlite.ts) runs claim, then the hash, then record.
 *
 * Every step is one IMMEDIATE transaction, so processes sharing the database (workers) count together and
 * never let two tries through the same delay.
 */
import type Database from 'better-sqlite3';
import { claimTry, countFailure, longestForgetPeriod, mailboxBackoffKey, type CountedKey, type FailureState, type PinBackoffPolicy } from './pin-backoff.js';

export type { CountedKey } from './pin-backoff.js';

interface FailureRow {
  failures: number;
  last_failure_at: number;
  not_before: number;
  alerted_at: number;
}

/** Counter names in the counters table. */
export const PIN_FAILURES_COUNTER = 'pinFailures';
export const PIN_ALERTS_COUNTER = 'pinBackoffAlerts';

/** How often rows whose failures are all forgotten are deleted (an attacker with many sources leaves many). */
export const PRUNE_EVERY_MS = 60_000;

export class PinFailureTable {
  private lastPrune = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly sql: (text: string) => Database.Statement,
  ) {}

  /**
   * Asks to try now. Returns how long to wait (ms) when a key's delay is not over; otherwise 0, and each key
   * that is past its threshold is held for its delay, so that a concurrent try waits for this one's outcome.
   */
  claim(keys: readonly CountedKey[], now: number, policy: PinBackoffPolicy): number {
    return this.db
      .transaction((): number => {
        const { waitMs, holds } = claimTry(keys, this.states(keys), now, policy);
        for (const { key, notBefore } of holds) this.sql('UPDATE pin_failures SET not_before = ? WHERE key = ?').run(notBefore, key);
        return waitMs;
      })
      .immediate();
  }

  /**
   * Counts a wrong PIN under each key and sets the next try's earliest time. Returns the keys that reached
   * their threshold and have not raised an alert within forgetAfterMs (each such alert is counted).
   */
  recordFailure(keys: readonly CountedKey[], now: number, policy: PinBackoffPolicy): { key: string; failures: number; delayMs: number }[] {
    const alerts = this.db
      .transaction(() => {
        const raised: { key: string; failures: number; delayMs: number }[] = [];
        this.bump(PIN_FAILURES_COUNTER, 1);
        const states = this.states(keys);
        for (const counted of keys) {
          const key = counted.key;
          const { state, delayMs, alert } = countFailure(states.get(key), counted, now, policy);
          this
            .sql(
              `INSERT INTO pin_failures (key, failures, last_failure_at, not_before, alerted_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at,
                 not_before = excluded.not_before, alerted_at = excluded.alerted_at`,
            )
            .run(key, state.failures, state.lastFailureAt, state.notBefore, state.alertedAt);
          if (alert) {
            this.bump(PIN_ALERTS_COUNTER, 1);
            raised.push({ key, failures: state.failures, delayMs });
          }
        }
        return raised;
      })
      .immediate();
    this.prune(now, policy);
    return alerts;
  }

  /**
   * Forgets a key's failures (a right PIN for the mailbox; `vmpilot mailbox unlock`), and those of the keys under
   * it ("mailbox:N|source:S", pin-backoff.ts): unlocking a mailbox lifts every source's back-off on it.
   */
  clear(key: string): void {
    this.sql("DELETE FROM pin_failures WHERE key = ? OR substr(key, 1, length(?) + 1) = ? || '|'").run(key, key, key);
  }

  /**
   * Inside a renumber's transaction: the mailbox's count and every source's count at it ("mailbox:OLD|...") move
   * to the new number, so that an attacker's failures follow the mailbox rather than starting again at zero.
   * Counts the new number already had (tries at it while it was no mailbox) are merged: the higher of each.
   */
  renumber(oldNumber: string, newNumber: string): void {
    const from = mailboxBackoffKey(oldNumber);
    this
      .sql(
        `INSERT INTO pin_failures (key, failures, last_failure_at, not_before, alerted_at)
         SELECT ? || substr(key, length(?) + 1), failures, last_failure_at, not_before, alerted_at FROM pin_failures
         WHERE key = ? OR substr(key, 1, length(?) + 1) = ? || '|'
         ON CONFLICT (key) DO UPDATE SET failures = max(pin_failures.failures, excluded.failures),
           last_failure_at = max(pin_failures.last_failure_at, excluded.last_failure_at),
           not_before = max(pin_failures.not_before, excluded.not_before), alerted_at = max(pin_failures.alerted_at, excluded.alerted_at)`,
      )
      .run(mailboxBackoffKey(newNumber), from, from, from, from);
    this.clear(from);
  }

  /** Failures counted under this key since it was last cleared (forgetting aside). */
  failures(key: string): number {
    return this.row(key)?.failures ?? 0;
  }

  counters(): Record<string, number> {
    const rows = this.sql('SELECT name, value FROM counters ORDER BY name').all() as { name: string; value: number }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  private states(keys: readonly CountedKey[]): Map<string, FailureState> {
    const states = new Map<string, FailureState>();
    for (const { key } of keys) {
      const row = this.row(key);
      if (row) states.set(key, { failures: row.failures, lastFailureAt: row.last_failure_at, notBefore: row.not_before, alertedAt: row.alerted_at });
    }
    return states;
  }

  private row(key: string): FailureRow | undefined {
    return this.sql('SELECT failures, last_failure_at, not_before, alerted_at FROM pin_failures WHERE key = ?').get(key) as FailureRow | undefined;
  }

  private bump(name: string, by: number): void {
    this.sql('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value').run(name, by);
  }

  /** Deletes rows whose every failure is forgotten and whose delay is over (at most once a minute). */
  private prune(now: number, policy: PinBackoffPolicy): void {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.sql('DELETE FROM pin_failures WHERE last_failure_at + failures * ? <= ? AND not_before <= ?').run(longestForgetPeriod(policy), now, now);
  }
}
