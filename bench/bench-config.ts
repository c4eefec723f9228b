/**
 * What the benchmarks share: the config file a benchmarked vmpilot runs with (loopback only, rate limits out
 * of the way, quiet logs), and the per-second figures capacity-server.ts writes and media-capacity.ts reads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<dir>/bench.yaml` (storage in `<dir>/data`) and returns its path. */
/** `http`: the config's http section (YAML flow), e.g. bench/api-load.ts prepareApiLoad's; default off. */
/** `storageUrl`: storage.url (PostgreSQL, bench-store.ts); default the embedded SQLite under `<dir>/data`. */
/** `pbx`: the config's pbx section (YAML flow), e.g. voicemail-deposits.ts's MWI target; default none. */
/** `rtpExtra`: more rtp keys (YAML flow entries), e.g. "io: dgram, realtimePriority: 10". */
export function writeBenchConfig(dir: string, opts: { listen: string[]; rtpPorts: string; http?: string; storageUrl?: string; pbx?: string; rtpExtra?: string }): string {
  const config = join(dir, 'bench.yaml');
  writeFileSync(
    config,
    [
      'sip:',
      `  listen: ${JSON.stringify(opts.listen)}`,
      '  rateLimit: { perSourcePerSecond: 100000, burst: 100000 }',
      `rtp: { address: 127.0.0.1, ports: "${opts.rtpPorts}"${opts.rtpExtra ? `, ${opts.rtpExtra}` : ''} }`,
      `storage: { dir: ${JSON.stringify(join(dir, 'data'))}${opts.storageUrl ? `, url: ${JSON.stringify(opts.storageUrl)}` : ''} }`,
      `http: ${opts.http ?? 'false'}`,
      ...(opts.pbx ? [`pbx: ${opts.pbx}`] : []),
      'log: { level: warn }',
      '',
    ].join('\n'),
  );
  return config;
}

/** One process's (or a cluster's summed) figures for the last second, one JSON line each. */
export interface CapacitySample {
  t: number;
  calls: number;
  /** Share of one core (a cluster's sum: 1.5 = one and a half cores). */
  cpu: number;
  rssMb: number;
  heapMb: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** Garbage collection in the last second: the longest pause and the sum, ms (a cluster: the worst worker's). */
  gcMaxMs: number;
  gcMs: number;
  /** Major (mark-compact) collections in the last second (a cluster: summed). */
  gcMajor: number;
  clockLate: number;
  clockMaxLatenessMs: number;
  /** The second's longest main-thread stall (ms) and, within it, its time on a CPU and waiting for one (capacity-server.ts). */
  stallMs?: number;
  stallRunMs?: number;
  stallWaitMs?: number;
}
