/**
 * Log lines about requests from strangers (sources that are not a trusted PBX), rate-limited so that a scan or a
 * flood cannot flood the log: at most one line per source per window (a minute by default), carrying how many
 * requests that source sent in its previous window, and at most `maxLinesPerWindow` lines per window over all
 * sources (a spray of spoofed addresses is summarised in the next line as `otherSources` and `otherRequests`).
 *
 * O(1) per request; memory bounded by `maxSources` (the least recently opened window is forgotten first,
 * which can only make a source's next line come early).
 *
 * Not here: what strangers are answered (stack.ts), who is a stranger (trust.ts).
 */
import type { Logger } from 'pino';

export interface StrangerLogOptions {
  /** One line per source per this many ms. Default 60000. */
  windowMs?: number;
  /** Lines per window over every source at most. Default 20. */
  maxLinesPerWindow?: number;
  /** Sources remembered at most. Default 10000. */
  maxSources?: number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** What a source is (IPv6 per network prefix, source-key.ts). Default: each address. */
  keyOf?: (address: string) => string;
}

interface SourceWindow {
  openedAt: number;
  requests: number;
}

export class StrangerLog {
  private readonly windowMs: number;
  private readonly maxLines: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  private readonly keyOf: (address: string) => string;
  private readonly sources = new Map<string, SourceWindow>();
  private globalOpenedAt = Number.NEGATIVE_INFINITY;
  private linesThisWindow = 0;
  private suppressedSources = 0;
  private suppressedRequests = 0;

  constructor(
    private readonly log: Logger,
    opts: StrangerLogOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxLines = opts.maxLinesPerWindow ?? 20;
    this.maxSources = opts.maxSources ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.keyOf = opts.keyOf ?? ((address) => address);
  }

  /** Counts one request from a stranger; logs it when its source's window opens. `what` goes into the line. */
  note(address: string, answer: string, what: Record<string, unknown>): void {
    const now = this.now();
    const source = this.keyOf(address);
    const known = this.sources.get(source);
    if (known && now - known.openedAt < this.windowMs) {
      known.requests++;
      return;
    }
    const previous = known?.requests ?? 0;
    if (known) this.sources.delete(source); // re-inserted below: Map order is window-opening order
    else if (this.sources.size >= this.maxSources) {
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
    this.sources.set(source, { openedAt: now, requests: 1 });

    if (now - this.globalOpenedAt >= this.windowMs) {
      this.globalOpenedAt = now;
      this.linesThisWindow = 0;
    }
    if (this.linesThisWindow >= this.maxLines) {
      this.suppressedSources++;
      this.suppressedRequests += previous + 1;
      return;
    }
    this.linesThisWindow++;
    const others = this.suppressedSources > 0 ? { otherSources: this.suppressedSources, otherRequests: this.suppressedRequests } : {};
    this.suppressedSources = 0;
    this.suppressedRequests = 0;
    this.log.warn(
      { source, ...(source !== address && { address }), answer, ...what, requestsInPreviousWindow: previous, windowS: this.windowMs / 1000, ...others },
      'requests from an untrusted source refused (one line per source per window)',
    );
  }
}
