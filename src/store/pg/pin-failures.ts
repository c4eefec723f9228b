/**
 * The PIN back-off's memory in PostgreSQL (tables pin_failures and counters), the twin of
 * pin-failure-table.ts: the same arithmetic (pin-backoff.ts claimTry/countFailure), each step one
 * transaction whose rows are locked (SELECT ... FOR UPDATE, and the insert of a missing key serialised by
 * its primary key), so every host counts into one counter and no two tries pass the same delay.
 */
import type pg from 'pg';
import { claimTry, countFailure, longestForgetPeriod, mailboxBackoffKey, type CountedKey, type FailureState, type PinBackoffPolicy } from '../pin-backoff.js';
import { PIN_ALERTS_COUNTER, PIN_FAILURES_COUNTER, PRUNE_EVERY_MS } from '../pin-failure-table.js';
import { inTransaction, type Queryable } from './connection.js';

interface FailureRow {
  key: string;
  failures: number;
  last_failure_at: number;
  not_before: number;
  alerted_at: number;
}

export class PgPinFailures {
  private lastPrune = 0;

  constructor(private readonly pool: pg.Pool) {}

  async claim(keys: readonly CountedKey[], now: number, policy: PinBackoffPolicy): Promise<number> {
    return inTransaction(this.pool, async (db) => {
      const { waitMs, holds } = claimTry(keys, await this.lockedStates(db, keys), now, policy);
      for (const { key, notBefore } of holds) await db.query('UPDATE pin_failures SET not_before = $1 WHERE key = $2', [notBefore, key]);
      return waitMs;
    });
  }

  async recordFailure(keys: readonly CountedKey[], now: number, policy: PinBackoffPolicy): Promise<{ key: string; failures: number; delayMs: number }[]> {
    const raised = await inTransaction(this.pool, async (db) => {
      const alerts: { key: string; failures: number; delayMs: number }[] = [];
      // A missing key's row is made first: two hosts counting a new key's first failure then both lock it.
      for (const { key } of keys) {
        await db.query('INSERT INTO pin_failures (key, failures, last_failure_at) VALUES ($1, 0, 0) ON CONFLICT (key) DO NOTHING', [key]);
      }
      const states = await this.lockedStates(db, keys);
      await this.bump(db, PIN_FAILURES_COUNTER);
      for (const counted of keys) {
        const key = counted.key;
        const before = states.get(key);
        const { state, delayMs, alert } = countFailure(before && before.failures > 0 ? before : undefined, counted, now, policy);
        await db.query('UPDATE pin_failures SET failures = $2, last_failure_at = $3, not_before = $4, alerted_at = $5 WHERE key = $1', [
          key,
          state.failures,
          state.lastFailureAt,
          state.notBefore,
          state.alertedAt,
        ]);
        if (alert) {
          await this.bump(db, PIN_ALERTS_COUNTER);
          alerts.push({ key, failures: state.failures, delayMs });
        }
      }
      return alerts;
    });
    await this.prune(now, policy);
    return raised;
  }

  /** Forgets a key's failures and those of the keys under it ("mailbox:N|source:S"), as pin-failure-table.ts. */
  async clear(key: string, db: Queryable = this.pool): Promise<void> {
    await db.query("DELETE FROM pin_failures WHERE key = $1 OR left(key, length($1) + 1) = $1 || '|'", [key]);
  }

  /** Inside a renumber's transaction: the mailbox's counts follow it, merged as pin-failure-table.ts renumber(). */
  async renumber(oldNumber: string, newNumber: string, db: Queryable): Promise<void> {
    const from = mailboxBackoffKey(oldNumber);
    await db.query(
      `INSERT INTO pin_failures (key, failures, last_failure_at, not_before, alerted_at)
       SELECT $2 || substr(key, length($1) + 1), failures, last_failure_at, not_before, alerted_at FROM pin_failures
       WHERE key = $1 OR left(key, length($1) + 1) = $1 || '|'
       ON CONFLICT (key) DO UPDATE SET failures = GREATEST(pin_failures.failures, excluded.failures),
         last_failure_at = GREATEST(pin_failures.last_failure_at, excluded.last_failure_at),
         not_before = GREATEST(pin_failures.not_before, excluded.not_before), alerted_at = GREATEST(pin_failures.alerted_at, excluded.alerted_at)`,
      [from, mailboxBackoffKey(newNumber)],
    );
    await this.clear(from, db);
  }

  async failures(key: string): Promise<number> {
    const result = await this.pool.query<{ failures: number }>('SELECT failures FROM pin_failures WHERE key = $1', [key]);
    return result.rows[0]?.failures ?? 0;
  }

  async counters(): Promise<Record<string, number>> {
    const result = await this.pool.query<{ name: string; value: number }>('SELECT name, value FROM counters ORDER BY name');
    return Object.fromEntries(result.rows.map((r) => [r.name, r.value]));
  }

  private async lockedStates(db: Queryable, keys: readonly CountedKey[]): Promise<Map<string, FailureState>> {
    // Locked in key order: two transactions locking the same keys never wait on each other in a cycle.
    const result = await db.query<FailureRow>(
      'SELECT key, failures, last_failure_at, not_before, alerted_at FROM pin_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE',
      [keys.map((k) => k.key)],
    );
    return new Map(result.rows.map((r) => [r.key, { failures: r.failures, lastFailureAt: r.last_failure_at, notBefore: r.not_before, alertedAt: r.alerted_at }]));
  }

  private async bump(db: Queryable, name: string): Promise<void> {
    await db.query('INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1', [name]);
  }

  /** Deletes rows whose every failure is forgotten and whose delay is over (at most once a minute). */
  private async prune(now: number, policy: PinBackoffPolicy): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.pool.query('DELETE FROM pin_failures WHERE last_failure_at + failures * $1::bigint <= $2 AND not_before <= $2', [longestForgetPeriod(policy), now]);
  }
}
