/**
 * PgLeadership (cluster/pg-leadership.ts) against a real PostgreSQL: exactly one of several candidates leads;
 * when the leader goes (stops, its session is killed, or the network to it goes silent) another takes over,
 * and the old leader is told it lost before the new one is told it won (never two leaders at once).
 * SoleLeadership (leadership.ts): leads from start() to stop().
 *
 * Not covered here: what a leader does (multi-host.test.ts: MWI from the leading host only), a leader killed by
 * SIGKILL (multi-host.test.ts kills a whole host).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SoleLeadership } from '../../src/cluster/leadership.js';
import { PgLeadership, LOCK_NAMESPACE } from '../../src/cluster/pg-leadership.js';
import { postgresPerFile } from '../helpers/postgres.js';

const logger = pino({ level: 'silent' });
const postgres = postgresPerFile();

/** A candidate with a timeline of what it was told. */
interface Candidate {
  name: string;
  leadership: PgLeadership;
  told: { leader: boolean; at: number }[];
}

const candidates: Candidate[] = [];
afterAll(async () => {
  for (const c of candidates) await c.leadership.stop();
});

/** A candidate with quick retries and checks (200 ms), or with the defaults (1 s, 1 s, step-down 2 s). */
function candidate(name: string, connection: string, lock: number, timing: 'quick' | 'defaults' = 'quick'): Candidate {
  const told: Candidate['told'] = [];
  const quick = timing === 'quick' ? { retryMs: 200, checkMs: 200 } : {};
  const leadership = new PgLeadership({ connection, logger, lock, ...quick, onChange: (leader) => told.push({ leader, at: Date.now() }) });
  const c = { name, leadership, told };
  candidates.push(c);
  leadership.start();
  return c;
}

async function until(what: string, test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const leaders = (cs: Candidate[]): Candidate[] => cs.filter((c) => c.leadership.leader);

/** A TCP relay to PostgreSQL that can go silent (a cable pulled: no FIN, no RST, nothing). */
async function silenceableRelay(port: number): Promise<{ port: number; silence(): void; close(): void }> {
  const sockets: Socket[] = [];
  let silent = false;
  const server: Server = createServer((inside) => {
    const outside = connect(port, '127.0.0.1');
    sockets.push(inside, outside);
    for (const [from, to] of [
      [inside, outside],
      [outside, inside],
    ] as const) {
      from.on('data', (d) => {
        if (!silent) to.write(d);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        if (!silent) to.destroy();
      });
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as { port: number }).port,
    silence: () => (silent = true),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('PgLeadership: an advisory lock on a connection of its own', () => {
  it('exactly one of three candidates leads; when it stops, one other takes over, told after the old one was', async () => {
    const url = await postgres.createDatabase();
    const cs = [candidate('a', url, 11), candidate('b', url, 11), candidate('c', url, 11)];
    await until('a leader', () => leaders(cs).length === 1);
    await new Promise((r) => setTimeout(r, 600));
    expect(leaders(cs)).toHaveLength(1);
    const first = leaders(cs)[0]!;
    await first.leadership.stop();
    const lostAt = first.told.at(-1)!;
    expect(lostAt.leader).toBe(false);
    await until('a new leader', () => leaders(cs).length === 1);
    const next = leaders(cs)[0]!;
    expect(next).not.toBe(first);
    expect(next.told.at(-1)!.at).toBeGreaterThanOrEqual(lostAt.at);
    console.log(`takeover after a leader stopped: ${next.told.at(-1)!.at - lostAt.at} ms (follower retry 200 ms)`);
  });

  it('MUST stop leading at once when its session is killed; a candidate leads again at its next try', async () => {
    const url = await postgres.createDatabase();
    const cs = [candidate('a', url, 12), candidate('b', url, 12)];
    await until('a leader', () => leaders(cs).length === 1);
    const first = leaders(cs)[0]!;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // The session that holds the lock (pg_locks: objid is the lock, classid the namespace).
      const killedAt = Date.now();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = 12 AND granted`,
        [LOCK_NAMESPACE],
      );
      await until('the old leader told it lost', () => first.told.at(-1)!.leader === false, 2000);
      const lostAt = first.told.at(-1)!.at;
      // Whichever tries first: the other candidate, or the old leader on its new connection.
      await until('a leader again', () => leaders(cs).length === 1, 5000);
      const next = leaders(cs)[0]!;
      expect(next.told.at(-1)!.at).toBeGreaterThanOrEqual(lostAt);
      console.log(`session killed: old leader stepped down after ${lostAt - killedAt} ms, ${next.name} led after ${next.told.at(-1)!.at - killedAt} ms`);
    } finally {
      await admin.end();
    }
  });

  it('MUST step down when its connection goes silent, before the server frees the lock for the next leader (within 5 s)', async () => {
    const url = await postgres.createDatabase();
    const server = await postgres.server();
    const relay = await silenceableRelay(server.port);
    try {
      const viaRelay = url.replace(`:${server.port}/`, `:${relay.port}/`);
      const cut = candidate('cut', viaRelay, 13, 'defaults');
      await until('the relayed candidate leads', () => cut.leadership.leader);
      const other = candidate('other', url, 13, 'defaults');
      await new Promise((r) => setTimeout(r, 1500));
      expect(other.leadership.leader).toBe(false);
      const silencedAt = Date.now();
      relay.silence();
      await until('the other leads', () => other.leadership.leader, 8000);
      const stepDown = cut.told.at(-1)!;
      const takeover = other.told.at(-1)!;
      expect(stepDown.leader).toBe(false);
      expect(takeover.at).toBeGreaterThan(stepDown.at);
      // By design within 5 s of the cut with the defaults (pg-leadership.ts); a second more for a loaded machine.
      expect(takeover.at - silencedAt).toBeLessThan(6000);
      console.log(`network silent: old leader stepped down after ${stepDown.at - silencedAt} ms, new leader after ${takeover.at - silencedAt} ms`);
    } finally {
      relay.close();
    }
  });
});

describe('PgLeadership when PostgreSQL itself goes down', () => {
  // Last in the file: it stops this file's server.
  it('MUST stop leading when the server dies, and lead again once it is back', async () => {
    const url = await postgres.createDatabase();
    const server = await postgres.server();
    const only = candidate('only', url, 14);
    await until('it leads', () => only.leadership.leader);
    const killedAt = Date.now();
    await server.kill();
    await until('it stepped down', () => !only.leadership.leader, 5000);
    const downAfter = Date.now() - killedAt;
    await server.start();
    const backAt = Date.now();
    await until('it leads again', () => only.leadership.leader, 10_000);
    expect(only.told.map((t) => t.leader)).toEqual([true, false, true]);
    console.log(`PostgreSQL killed: stepped down after ${downAfter} ms; led again ${Date.now() - backAt} ms after it was back`);
  });
});

describe('SoleLeadership', () => {
  it('leads from start() to stop(), told once each way', async () => {
    const told: boolean[] = [];
    const sole = new SoleLeadership({ onChange: (leader) => told.push(leader) });
    expect(sole.leader).toBe(false);
    sole.start();
    sole.start();
    expect(sole.leader).toBe(true);
    await sole.stop();
    await sole.stop();
    expect(sole.leader).toBe(false);
    expect(told).toEqual([true, false]);
  });
});
