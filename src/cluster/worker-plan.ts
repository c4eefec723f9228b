/**
 * Where each local worker listens: its SIP ports and its slice of rtp.ports (DESIGN.md, "Scaling: the 302
 * front door"). Pure: the front door and every worker compute the same plan from the same config, so a worker
 * needs only its index and the worker count to know its place.
 *
 * Ports: the distinct ports of sip.listen, in order (5060 for udp+tcp, 5061 for tls), are repeated per worker
 * from cluster.basePort: worker k's j-th port is basePort + k * (distinct ports) + j. With listen on 5060 and
 * 5061 and the default basePort 5065: worker 0 on 5065 (udp, tcp) and 5066 (tls), worker 1 on 5067 and 5068.
 * basePort 0: every worker takes free ports and reports them to the front door (tests).
 */
import { availableParallelism } from 'node:os';
import { DEFAULTS } from '../config/defaults.js';
import type { ClusterConfig, Config, ListenSpec } from '../config/schema.js';

export interface WorkerPlan {
  index: number;
  listen: ListenSpec[];
  rtpMin: number;
  rtpMax: number;
}

/** cluster.workers as a count: 'auto' is one per core. */
export function workerCount(workers: ClusterConfig['workers']): number {
  return workers === 'auto' ? availableParallelism() : workers;
}

/** Every local worker's place, or an error saying why the config cannot give `count` workers their own. */
export function planWorkers(config: Pick<Config, 'sip' | 'rtp' | 'cluster'>, count: number): WorkerPlan[] {
  const ports = [...new Set(config.sip.listen.map((l) => l.port))];
  const first = ports[0] ?? 0;
  // A front door on a free port (tests) has no number to count from: its workers take free ports too.
  const base = config.cluster?.basePort ?? (first === 0 ? 0 : first + DEFAULTS.clusterPortOffset);
  const last = base + count * ports.length - 1;
  if (base !== 0 && last > 65535) throw new Error(`cluster: ${count} workers need ports ${base}-${last}, past 65535 (lower cluster.basePort)`);
  const taken = ports.find((p) => p !== 0 && base !== 0 && p >= base && p <= last);
  if (taken !== undefined) throw new Error(`cluster: worker ports ${base}-${last} include the front door's port ${taken} (set cluster.basePort)`);
  // RTP ports come in even/odd pairs (RFC 3550 §11): each slice is a whole number of pairs.
  const pairs = Math.floor((config.rtp.portMax - config.rtp.portMin + 1) / 2);
  const perWorker = Math.floor(pairs / Math.max(1, count));
  if (count > 0 && perWorker < 1) throw new Error(`cluster: rtp.ports ${config.rtp.portMin}-${config.rtp.portMax} is too small for ${count} workers`);
  const rtpStart = config.rtp.portMin % 2 === 0 ? config.rtp.portMin : config.rtp.portMin + 1;
  return Array.from({ length: count }, (_, index) => ({
    index,
    listen: config.sip.listen.map((l) => ({ ...l, port: base === 0 ? 0 : base + index * ports.length + ports.indexOf(l.port) })),
    rtpMin: rtpStart + index * perWorker * 2,
    rtpMax: rtpStart + (index + 1) * perWorker * 2 - 1,
  }));
}

/** The config a worker runs with: an ordinary vmpilot server on its own ports, not a front door. */
export function workerConfig(config: Config, plan: WorkerPlan): Config {
  return {
    ...config,
    sip: { ...config.sip, listen: plan.listen },
    rtp: { ...config.rtp, portMin: plan.rtpMin, portMax: plan.rtpMax },
    cluster: undefined,
  };
}

/**
 * The calls a worker can carry: limits.maxCalls, or fewer when its RTP slice holds fewer port pairs (each call
 * needs one, RFC 3550 §11). The worker reports this, so that the front door stops sending it calls when its
 * ports run out rather than have it refuse them.
 */
export function workerMaxCalls(config: Pick<Config, 'limits'>, plan: WorkerPlan): number {
  return Math.min(config.limits.maxCalls, Math.floor((plan.rtpMax - plan.rtpMin + 1) / 2));
}
