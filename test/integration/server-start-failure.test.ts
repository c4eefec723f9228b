/**
 * A start that fails stops what it had started (src/server.ts startServer), so that a process that goes on (a
 * test, an embedding program, a cluster worker started again) is left with no connection, socket, thread or
 * timer of the failed server.
 *
 * Covers, with a real Dovecot behind a counting TCP relay for unified messaging:
 *  - the MWI service failing to start (its subscriptions file of an earlier version unreadable: a directory)
 *    after the IMAP sync had started with the host's leadership: the start fails with the MWI error, the IMAP
 *    sync's connections close and none opens afterwards (it sweeps every second), the SIP ports are free again,
 *    and the process holds no more handles and timers than before the start (the store's thread was left);
 *    the same config with the folder readable starts and its sync connects (so the check is not vacuous);
 *  - the SIP endpoint failing to bind (its TCP port taken), after the store was opened: the same handles count.
 * Not covered: a failure of the HTTP server's start (http-auth.test.ts, port taken), the leader jobs' own
 * start and stop (leader-jobs.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';
import { canBindTcp, canBindUdp, freeTcpPort, freeUdpPort } from '../helpers/cli-process.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { MASTER_PASSWORD, MASTER_USER, startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { reserveRtpPorts } from '../helpers/rtp-range.js';

const BOB = 'bob@example.com';
let dovecot: DovecotServer;
/** A relay to Dovecot that counts the connections the server opens. */
let relay: TcpRelay;
const dirs: string[] = [];

beforeAll(async () => {
  dovecot = await startDovecot([BOB]);
  relay = await startTcpRelay(dovecot.port);
}, 30_000);

afterAll(async () => {
  await relay?.close();
  await dovecot?.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The process's handles and timers by kind (Node's own list), to compare before and after. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The kinds of handles and timers the process holds more of than `before`, with how many more. */
function heldBeyond(before: Record<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [kind, count] of Object.entries(resources())) if (count > (before[kind] ?? 0)) extra[kind] = count - (before[kind] ?? 0);
  return extra;
}

/** Waits (at most 5 s) until the process holds nothing beyond `before`; answers what it still holds beyond. */
async function leftBeyond(before: Record<string, number>): Promise<Record<string, number>> {
  let extra = heldBeyond(before);
  for (const end = Date.now() + 5000; Date.now() < end && Object.keys(extra).length > 0; extra = heldBeyond(before)) await sleep(50);
  return extra;
}

/** A config on a fresh storage folder, SIP on the given ports, unified messaging through the relay. */
async function config(udp: number, tcp: number): Promise<{ yaml: string; dir: string; release: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-start-failure-'));
  dirs.push(dir);
  const rtp = await reserveRtpPorts(20);
  const yaml = [
    `sip: { listen: ["udp:127.0.0.1:${udp}", "tcp:127.0.0.1:${tcp}"] }`,
    `rtp: { address: 127.0.0.1, ports: "${rtp.min}-${rtp.max}" }`,
    `storage: { dir: ${JSON.stringify(dir)} }`,
    'http: false',
    'mailboxes:',
    `  - { number: "27001", pin: "1234", name: "Bob Example", email: ${BOB}, imap: { user: ${BOB}, password: ${dovecot.password} } }`,
    'unifiedMessaging:',
    // A sweep every second: a sync left running after a failed start connects again at once.
    `  imap: { host: 127.0.0.1, port: ${relay.port}, tls: none, master: { user: ${MASTER_USER}, password: ${MASTER_PASSWORD} }, maxConnections: 2, sweepSeconds: 1 }`,
  ].join('\n');
  return { yaml, dir, release: () => rtp.release() };
}

describe('a start that fails', () => {
  it('at the MWI service, after the IMAP sync started: the sync is stopped, its connections closed, the SIP ports free', async () => {
    const udp = await freeUdpPort();
    const tcp = await freeTcpPort();
    const { yaml, dir, release } = await config(udp, tcp);
    // An earlier version's subscriptions file that cannot be read: the MWI service's start fails on it.
    mkdirSync(join(dir, 'subscriptions.json'));
    const before = resources();
    const logger = pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' });
    await expect(startServer(parseConfig(yaml, dir), logger)).rejects.toThrow(/EISDIR/);
    const left = await leftBeyond(before);
    const connectionsAtFailure = relay.ever;
    // Two sweep periods: a sync still running would have connected again.
    await sleep(2500);
    expect(relay.open.size, 'IMAP connections still open').toBe(0);
    expect(relay.ever, 'IMAP connections opened after the failed start').toBe(connectionsAtFailure);
    expect(left).toEqual({});
    expect(await canBindUdp(udp)).toBe(true);
    expect(await canBindTcp(tcp)).toBe(true);

    // The same config with a readable folder starts, and its sync does connect through the relay (the check
    // above was not vacuous).
    rmSync(join(dir, 'subscriptions.json'), { recursive: true });
    const server = await startServer(parseConfig(yaml, dir), logger);
    try {
      for (const end = Date.now() + 5000; Date.now() < end && relay.ever === connectionsAtFailure; ) await sleep(50);
      expect(relay.ever).toBeGreaterThan(connectionsAtFailure);
    } finally {
      await server.close();
      await release();
    }
  }, 30_000);

  it('at the SIP endpoint (its TCP port taken), after the store opened: the store side is closed too', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const tcp = (taken.address() as { port: number }).port;
    const udp = await freeUdpPort();
    const { yaml, dir, release } = await config(udp, tcp);
    const before = resources();
    await expect(startServer(parseConfig(yaml, dir), pino({ level: 'silent' }))).rejects.toThrow(/EADDRINUSE/);
    expect(await leftBeyond(before)).toEqual({});
    expect(await canBindUdp(udp)).toBe(true);
    await new Promise((resolve) => taken.close(resolve));
    await release();
  }, 30_000);
});
