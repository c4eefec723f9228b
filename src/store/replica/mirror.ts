/**
 * The mirror (issue 10, seed 000's Message Mirror): keeps a standby store identical to the primary.
 *
 * Event-driven: the primary store's change events ('counts' for a mailbox's messages, 'mailbox' for its fields,
 * PIN, greetings and recorded name; types.ts StoreEvents) mark the mailbox dirty; a single worker loop takes
 * the dirty mailboxes and reconciles them (reconcile.ts) onto the standby, a group at a time. A periodic sweep reconciles the
 * whole store, catching what events missed (a change made while this process was not running, a feed row
 * trimmed). The first pass after start, and after every failure, is such a sweep: that is the catch-up after
 * the standby, the primary or the link was down.
 *
 * Failures (the standby unreachable or locked, a disk full) are logged and retried with exponential back-off;
 * the standby is re-opened for the retry. Nothing here throws out of the loop: the mirror never crashes.
 *
 * Figures: every copied message is logged with its age (now - receivedAt: for a deposit made through the store
 * API the deposit-to-standby lag); every sweep logs how far behind the standby was (behindMs: the age of the
 * oldest change not yet copied when the pass started) and the copy ages since the last sweep (p50, p99, max).
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { StoreEvents } from '../types.js';
import { changedAnything, reconcile, type ReconcileResult } from './reconcile.js';
import type { MessageContent, StoreReplica } from './types.js';

export interface MirrorOptions {
  /** The primary: its change events and its content. */
  primary: { events: EventEmitter<StoreEvents>; replica: StoreReplica };
  /** Opens the standby (again after a failure). */
  openStandby(): Promise<StoreReplica>;
  logger: Logger;
  /** Whole-store sweep period, ms. Default 60,000 (seed 000's 60-second update pass). */
  sweepMs?: number;
  /** First retry delay after a failure, ms; doubled per failure up to retryMaxMs. Default 500. */
  retryMinMs?: number;
  /** Longest retry delay, ms. Default 30,000. */
  retryMaxMs?: number;
}

export interface MirrorStatus {
  /** Whether the standby was reached by the last pass. */
  connected: boolean;
  /** Mailboxes with changes not yet copied. */
  pendingMailboxes: number;
  /** Age of the oldest change not yet copied, ms (0 when none). */
  behindMs: number;
  /** Passes completed (sweeps and mailbox updates). */
  passes: number;
  /** Messages copied since start. */
  messagesCopied: number;
  /** Consecutive failures (0 when the last pass worked). */
  failures: number;
}

/** Dirty mailboxes reconciled in one pass at most (updateDirty). */
const MAILBOXES_PER_PASS = 200;

/** A mailbox with changes not yet copied: since when, and whether its fields and greetings changed too. */
interface DirtyMark {
  since: number;
  fields: boolean;
}
/** Copy ages kept for the sweep's figures. */
const AGES_KEPT = 10_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export class Mirror {
  private standby: StoreReplica | undefined;
  private readonly dirty = new Map<string, DirtyMark>();
  private sweepDue = true;
  private sweepSince = Date.now();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private ages: number[] = [];
  private readonly state = { connected: false, passes: 0, messagesCopied: 0, failures: 0 };
  private readonly onCounts = (mailbox: string): void => this.mark(mailbox, false);
  private readonly onMailbox = (number: string): void => this.mark(number, true);

  constructor(private readonly opts: MirrorOptions) {}

  start(): void {
    if (this.loop) return;
    this.opts.primary.events.on('counts', this.onCounts);
    this.opts.primary.events.on('mailbox', this.onMailbox);
    this.sweepTimer = setInterval(() => {
      if (!this.sweepDue) this.sweepSince = Date.now();
      this.sweepDue = true;
      this.wake?.();
    }, this.opts.sweepMs ?? 60_000);
    this.loop = this.run();
  }

  /** Stops after the pass in progress; closes the standby. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    this.opts.primary.events.off('counts', this.onCounts);
    this.opts.primary.events.off('mailbox', this.onMailbox);
    this.wake?.();
    await this.loop;
    await this.closeStandby();
  }

  status(): MirrorStatus {
    const oldest = Math.min(...[...this.dirty.values()].map((d) => d.since), this.sweepDue ? this.sweepSince : Infinity);
    return { ...this.state, pendingMailboxes: this.dirty.size, behindMs: Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : 0 };
  }

  private mark(mailbox: string, fields: boolean): void {
    const had = this.dirty.get(mailbox);
    this.dirty.set(mailbox, { since: had?.since ?? Date.now(), fields: fields || (had?.fields ?? false) });
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.sweepDue && this.dirty.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        this.standby ??= await this.opts.openStandby();
        if (this.sweepDue) await this.sweep();
        else await this.updateDirty();
        this.state.connected = true;
        this.state.failures = 0;
      } catch (err) {
        await this.failed(err);
      }
    }
  }

  private async sweep(): Promise<void> {
    const behindMs = this.status().behindMs;
    this.sweepDue = false;
    const started = Date.now();
    // Changes marked from here on are read by this pass or the next; earlier marks are covered by this pass.
    const covered = new Map(this.dirty);
    try {
      const result = await reconcile(this.opts.primary.replica, this.standby!, { subscriptions: true, onCopied: (m) => this.copied(m) });
      for (const [mailbox, mark] of covered) if (this.dirty.get(mailbox) === mark) this.dirty.delete(mailbox);
      this.state.passes++;
      const sorted = [...this.ages].sort((a, b) => a - b);
      this.opts.logger.info(
        {
          ...this.summary(result),
          behindMs,
          passMs: Date.now() - started,
          ageP50Ms: percentile(sorted, 50),
          ageP99Ms: percentile(sorted, 99),
          ageMaxMs: sorted.at(-1) ?? 0,
          agesCounted: sorted.length,
        },
        changedAnything(result) ? 'mirror sweep copied changes the events had not' : 'mirror sweep: standby identical',
      );
      this.ages = [];
    } catch (err) {
      this.sweepDue = true;
      throw err;
    }
  }

  /**
   * Reconciles the dirty mailboxes in groups of up to MAILBOXES_PER_PASS: a pass reads each side's rows for the
   * whole group in a few statements and commits the group's new messages in batches (a batch's files written
   * side by side), so round trips and commits per message shrink as the rate grows; changes that arrive
   * meanwhile make the next group. Mailbox by mailbox, the mirror fell behind a steady 100 deposits/s.
   * Mailboxes whose fields changed go in groups of their own (their greetings are compared too).
   */
  private async updateDirty(): Promise<void> {
    const work = [...this.dirty];
    for (const fields of [true, false]) {
      const group = work.filter(([, mark]) => mark.fields === fields);
      for (let i = 0; i < group.length && !this.stopped; i += MAILBOXES_PER_PASS) await this.updateGroup(group.slice(i, i + MAILBOXES_PER_PASS), fields);
    }
  }

  private async updateGroup(group: readonly (readonly [string, DirtyMark])[], fields: boolean): Promise<void> {
    const mailboxes = group.map(([mailbox]) => mailbox);
    const result = await reconcile(this.opts.primary.replica, this.standby!, { mailboxes, mailboxFields: fields, onCopied: (m) => this.copied(m) });
    // Marked again while this pass ran: the entry was replaced, and stays for the next pass.
    for (const [mailbox, mark] of group) if (this.dirty.get(mailbox) === mark) this.dirty.delete(mailbox);
    this.state.passes++;
    if (changedAnything(result)) {
      const sinceChangeMs = Date.now() - Math.min(...group.map(([, mark]) => mark.since));
      this.opts.logger.info({ mailboxes, ...this.summary(result), sinceChangeMs }, 'mirror updated mailboxes');
    }
  }

  private copied(messages: readonly MessageContent[]): void {
    const now = Date.now();
    for (const m of messages) {
      const ageMs = now - m.receivedAt;
      if (this.ages.length < AGES_KEPT) this.ages.push(ageMs);
      this.state.messagesCopied++;
      this.opts.logger.info({ id: m.id, mailbox: m.mailbox, folder: m.folder, ageMs }, 'mirror copied a message');
    }
  }

  private summary(r: ReconcileResult): Record<string, number | boolean> {
    const out: Record<string, number | boolean> = {};
    for (const [k, v] of Object.entries(r)) if (v) out[k] = v;
    return out;
  }

  private async failed(err: unknown): Promise<void> {
    this.state.failures++;
    this.state.connected = false;
    // After an outage the events seen meanwhile are not enough (the standby may have missed writes half done):
    // the next pass is a whole sweep.
    if (!this.sweepDue) this.sweepSince = Date.now();
    this.sweepDue = true;
    const min = this.opts.retryMinMs ?? 500;
    const delayMs = Math.min(this.opts.retryMaxMs ?? 30_000, min * 2 ** Math.min(this.state.failures - 1, 16));
    this.opts.logger.warn({ err, failures: this.state.failures, retryInMs: delayMs }, 'mirror pass failed; retrying');
    await this.closeStandby();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.wake = () => {
        if (this.stopped) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    this.wake = undefined;
  }

  private async closeStandby(): Promise<void> {
    const standby = this.standby;
    this.standby = undefined;
    try {
      await standby?.close();
    } catch (err) {
      this.opts.logger.warn({ err }, 'closing the standby failed');
    }
  }
}
