/**
 * The scheduled directory sync (directory.ldap.schedule minutes; 0: none): run by the one process of a host
 * that maintains the store (a single server, or a cluster's front door), and of a site's hosts by the leader. The first sync
 * runs one period after start (a restart loop must not hammer the directory); syncs never overlap. The report
 * is logged as counts, with each change at debug and each skipped entry at warn. Random PINs that could not be
 * mailed are written to a file only root can read (storage.dir/directory-pins-<time>.txt), whose name is
 * logged: never the PINs themselves.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Leadership, LeadershipOptions } from '../cluster/leadership.js';
import { runWhileLeader } from '../cluster/leader-job.js';
import type { Config } from '../config/schema.js';
import { summary } from './report-text.js';
import { syncDirectory, type SyncReport, type SyncStore } from './sync.js';

async function writePins(dir: string, report: SyncReport): Promise<string> {
  const file = join(dir, `directory-pins-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(report.pinsToHandOut.map((p) => `${p.number} ${p.pin} (${p.why})\n`).join(''));
  } finally {
    await handle.close();
  }
  return file;
}

export interface DirectorySchedule {
  /** Resolves once a sync in progress has finished (the caller closes the store next). */
  stop(): Promise<void>;
}

/**
 * With a leadership (a serving process): the schedule runs only while this host leads its site
 * (cluster/leader-job.ts), so that one host of several on a PostgreSQL store syncs; its period starts again at
 * each win. Without: it runs from now on (tests).
 */
export function startDirectorySchedule(
  store: SyncStore,
  config: Config,
  logger: Logger,
  leadership?: (opts: LeadershipOptions) => Leadership,
): DirectorySchedule | undefined {
  const minutes = config.directory?.ldap.schedule ?? 0;
  if (minutes <= 0) return undefined;
  if (!leadership) return scheduleSyncs(store, config, logger, minutes);
  return runWhileLeader({ leadership, start: () => scheduleSyncs(store, config, logger, minutes), stop: (s) => s.stop(), name: 'directory schedule', logger });
}

function scheduleSyncs(store: SyncStore, config: Config, logger: Logger, minutes: number): DirectorySchedule {
  const log = logger.child({ component: 'directory' });
  let running: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    try {
      // One PIN hash at a time: this process's calls check PINs on the same libuv pool.
      const report = await syncDirectory(store, config, { hashesInFlight: 1, logger: log });
      for (const s of report.skipped) log.warn({ dn: s.dn, reason: s.reason }, 'directory entry skipped');
      log.debug({ created: report.created, updated: report.updated, renumbered: report.renumbered, disabled: report.disabled }, 'directory sync changes');
      const pinsFile = report.pinsToHandOut.length > 0 ? await writePins(config.storage.dir, report) : undefined;
      log.info({ ...summary(report), ...(pinsFile ? { pinsFile } : {}) }, 'directory sync done');
    } catch (err) {
      log.error({ err }, 'directory sync failed; nothing applied');
    }
  };
  const timer = setInterval(() => {
    running ??= run().finally(() => (running = undefined));
  }, minutes * 60_000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
