/**
 * Leadership among hosts by a PostgreSQL session advisory lock (issue 10: "exactly one host sends unsolicited
 * MWI at a time ... another takes over within 5 s when it dies"). The lock lives on a dedicated connection:
 * when the holder's process dies its connection closes and PostgreSQL releases the lock at once; when the
 * holder loses its connection (PostgreSQL restarted, network cut) `lost` resolves so it stops acting as
 * leader. A heartbeat query every heartbeatMs notices a connection that died silently.
 *
 * Usage: poll tryLeaderLock(name) every second or so while not leader; act while the lock is held; on `lost`,
 * stop acting and poll again.
 */
import pg from 'pg';

/** application_name of a leader lock's connection (pg_stat_activity tells the leader's host by it). */
export const LEADER_APPLICATION_NAME = 'vmpilot-leader';

export interface LeaderLock {
  /** Resolves (with the reason) when the lock is no longer held: connection lost or release() called. */
  readonly lost: Promise<Error>;
  /** Releases the lock and ends its connection. Idempotent. */
  release(): Promise<void>;
}

/** Takes the lock named `name` if nobody holds it; undefined when another session does. */
export async function tryLeaderLock(client: pg.ClientConfig, name: string, heartbeatMs = 1000): Promise<LeaderLock | undefined> {
  const session = new pg.Client({ ...client, application_name: LEADER_APPLICATION_NAME });
  let signal!: (err: Error) => void;
  const lost = new Promise<Error>((resolve) => (signal = resolve));
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const end = (err: Error): void => {
    if (done) return;
    done = true;
    clearInterval(timer);
    session.end().catch(() => undefined);
    signal(err);
  };
  session.on('error', (err) => end(err));
  session.on('end', () => end(new Error('leader lock connection ended')));
  await session.connect();
  let held = false;
  try {
    // hashtext: a stable 32-bit key for the name, widened to the bigint key space of advisory locks.
    const result = await session.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)::bigint) AS held', [name]);
    held = result.rows[0]?.held === true;
  } finally {
    if (!held) {
      done = true;
      await session.end().catch(() => undefined);
    }
  }
  if (!held) return undefined;
  timer = setInterval(() => {
    session.query('SELECT 1').catch((err: unknown) => end(err instanceof Error ? err : new Error(String(err))));
  }, heartbeatMs);
  timer.unref();
  return {
    lost,
    release: async () => end(new Error('released')),
  };
}
