/**
 * Workers on other hosts (cluster.remote): plain vmpilot servers the front door redirects to like local ones,
 * watched by OPTIONS. A remote worker is checked every CHECK_INTERVAL_MS; any final response below 500 within
 * CHECK_TIMEOUT_MS puts it in the rotation; a 5xx (a vmpilot draining, or with no room) takes it out at once;
 * after MISSES_ALLOWED checks in a row without an answer it is out (dead) until it answers again. Each entry serves the one transport its URI names
 * ("sip:10.0.0.5:5065;transport=tcp"; none: UDP), on the host written in the URI.
 *
 * Remote workers report no call count: the health table gives them calls in turn when no local worker can
 * take one (or always, when the front door runs no local workers). Their store is shared through PostgreSQL.
 */
import type { Logger } from 'pino';
import { Headers, createRequest } from '../sip/message.js';
import { newCallId, newTag } from '../sip/ids.js';
import { parseUri } from '../sip/uri.js';
import { resolveTarget } from '../sip/resolve-target.js';
import type { SipStack, ClientTransaction } from '../sip/stack.js';
import type { SendTarget } from '../sip/transport/types.js';
import { WorkerState, type WorkerEntry, type WorkerTable } from './health.js';

export const CHECK_INTERVAL_MS = 2_000;
export const CHECK_TIMEOUT_MS = 1_500;
export const MISSES_ALLOWED = 2;

export interface RemoteWorkersOptions {
  uris: readonly string[];
  table: WorkerTable;
  stack: SipStack;
  logger: Logger;
  /** Default CHECK_INTERVAL_MS. */
  intervalMs?: number;
}

/** up: 2xx-4xx; busy: 5xx (draining, full); miss: no answer in time. */
type CheckResult = 'up' | 'busy' | 'miss';

interface Remote {
  uri: string;
  entry: WorkerEntry;
  misses: number;
  inFlight: ClientTransaction | undefined;
}

export class RemoteWorkers {
  private readonly remotes: Remote[];
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: RemoteWorkersOptions) {
    this.log = opts.logger;
    this.remotes = opts.uris.map((uri) => ({ uri, entry: opts.table.add(uri, true), misses: 0, inFlight: undefined }));
  }

  start(): void {
    if (this.remotes.length === 0) return;
    const check = (): void => {
      for (const r of this.remotes) void this.check(r);
    };
    check();
    this.timer = setInterval(check, this.opts.intervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const r of this.remotes) r.inFlight?.terminate();
  }

  private async check(r: Remote): Promise<void> {
    let target: SendTarget;
    try {
      target = await resolveTarget(r.uri);
    } catch (err) {
      this.outcome(r, 'miss', err instanceof Error ? err.message : String(err));
      return;
    }
    const uri = parseUri(r.uri);
    if (!uri || uri.scheme === 'tel') return; // the schema accepted only sip/sips URIs
    r.entry.endpoints = [{ transport: target.transport, host: uri.host, port: target.port }];
    r.inFlight?.terminate();
    const local = this.opts.stack.localEndpoint(target);
    const h = new Headers();
    h.set('from', `<sip:vmpilot@${local.address.includes(':') ? `[${local.address}]` : local.address}>;tag=${newTag()}`);
    h.set('to', `<${r.uri}>`);
    h.set('call-id', newCallId());
    h.set('cseq', '1 OPTIONS');
    h.set('accept', 'application/sdp');
    let settled = false;
    const done = (result: CheckResult, why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      tx.terminate();
      if (r.inFlight === tx) r.inFlight = undefined;
      this.outcome(r, result, why);
    };
    // A UDP OPTIONS would retransmit for 32 s (Timer F); a health check that slow is a miss.
    const deadline = setTimeout(() => done('miss', 'no answer'), CHECK_TIMEOUT_MS);
    const tx = this.opts.stack.sendRequest(createRequest('OPTIONS', r.uri, h), target, {
      onResponse: (res) => {
        if (res.status >= 200) done(res.status < 500 ? 'up' : 'busy', `${res.status}`);
      },
      onTimeout: () => done('miss', 'timeout'),
      onTransportError: () => done('miss', 'transport error'),
    });
    r.inFlight = tx;
  }

  private outcome(r: Remote, result: CheckResult, why: string): void {
    const table = this.opts.table;
    if (result !== 'miss') {
      r.misses = 0;
      const state = result === 'up' ? WorkerState.Ready : WorkerState.Draining;
      if (r.entry.state !== state) this.log.info({ worker: r.uri, status: why }, result === 'up' ? 'remote worker up: in rotation' : 'remote worker busy: out of rotation');
      table.setState(r.entry, state);
      return;
    }
    r.misses += 1;
    if (r.misses >= MISSES_ALLOWED && r.entry.state !== WorkerState.Dead) {
      this.log.warn({ worker: r.uri, why, misses: r.misses }, 'remote worker down: out of rotation');
      table.setState(r.entry, WorkerState.Dead);
    }
  }
}
