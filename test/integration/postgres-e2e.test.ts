/**
 * `vmpilot serve` on a PostgreSQL store (storage.url), end to end, as a site runs it: the real server process,
 * SIPp as the PBX forwarding callers to the pilot, a throwaway PostgreSQL (helpers/postgres.ts), and `vmpilot
 * messages --json` run as an operator would, with a config of its own whose storage.dir is another folder (as
 * on another host): the audio it lists is fetched from the database.
 *
 * Covers, in order, on one mailbox:
 * 1. `vmpilot store migrate` on an empty database prints the version before and after (0 -> N), then "already";
 * 2. a caller leaves a message: listed from the other folder with an absolute audioPath to a playable WAV
 *    holding the tones streamed;
 * 3. PostgreSQL stops while a caller is recording: the deposit is kept on the server's disk (logged), the
 *    message is in the database once PostgreSQL is back, and a call after that deposits as usual (the pool
 *    re-connected);
 * 4. a call that BEGINS while PostgreSQL is down: its mailbox is found as last read, its message kept on the
 *    server's disk and committed (playable, listed) once PostgreSQL is back;
 * 5. a server whose storage.url reaches no database exits 1 at start, once, saying which database (without
 *    its password) could not be reached.
 * Does not cover: the store's behaviour in depth (test/unit/store.test.ts on both engines), the change feed
 * across hosts (store-postgres.test.ts), MWI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWavHeader } from '../../src/media/wav.js';
import { PG_SCHEMA_VERSION } from '../../src/store/pg/schema.js';
import { compareTones, findTones, readRecording, TONES_3S } from '../helpers/audio-analysis.js';
import { freeTcpPort, freeUdpPort, logLine, runCli, serve, stopServing, waitForRecord, type Serving } from '../helpers/cli-process.js';
import { postgresPerFile, type PostgresServer } from '../helpers/postgres.js';
import { runSipp } from '../helpers/sipp.js';
import { waitFor } from '../helpers/test-server.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';

const BOB = '"Bob Smith" <sip:27001@127.0.0.1>';
const DIVERSION = 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1';

interface ListedMessage {
  id: string;
  folder: string;
  from: string;
  durationMs: number;
  audioPath: string;
}

const pgServer = postgresPerFile();
let pg: PostgresServer;
let dir: string;
let url: string;
let serverConfig: string;
/** The same store as seen from another host: same storage.url, another storage.dir. */
let otherHostConfig: string;
let sipPort: number;
let server: Serving;
let rtp: RtpRange | undefined;
/** The messages listed before the outage test (its message is the one not among them). */
const seenIds = new Set<string>();

function writeConfig(file: string, storageDir: string, storageUrl: string, rtpPorts: string): void {
  writeFileSync(
    file,
    [
      'sip:',
      `  listen: ["udp:127.0.0.1:${sipPort}"]`,
      `rtp: { address: 127.0.0.1, ports: "${rtpPorts}" }`,
      `storage: { dir: ${JSON.stringify(storageDir)}, url: ${JSON.stringify(storageUrl)} }`,
      'http: false',
      'services: { voicemail: ["8000"], attendant: ["8001"] }',
      'mailboxes:',
      '  - { number: "27000", pin: "7391", name: "Alice Example" }',
      'voicemail: { reviewMenu: false, timeZone: UTC }',
      'log: { level: info }',
      '',
    ].join('\n'),
  );
}

async function listMessages(): Promise<ListedMessage[]> {
  const r = await runCli('messages', '27000', '--json', '--config', otherHostConfig);
  if (r.code !== 0) throw new Error(`vmpilot messages exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as ListedMessage[];
}

/** One forwarded caller leaving tones-3s; resolves when SIPp ends. */
async function leaveMessage(): Promise<void> {
  const result = await runSipp({
    scenario: 'uac-vm-deposit.xml',
    transport: 'udp',
    port: sipPort,
    service: '8000',
    timeoutS: 40,
    extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION],
  });
  if (result.code !== 0) throw new Error(`SIPp failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
}

describe('vmpilot serve on PostgreSQL (storage.url)', () => {
  beforeAll(async () => {
    pg = await pgServer.server();
    url = await pg.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'vmpilot-pg-e2e-'));
    sipPort = await freeUdpPort();
    rtp = await reserveRtpPorts(20);
    serverConfig = join(dir, 'server.yaml');
    otherHostConfig = join(dir, 'other-host.yaml');
    writeConfig(serverConfig, join(dir, 'server-data'), url, rtp.ports);
    writeConfig(otherHostConfig, join(dir, 'other-host-data'), url, rtp.ports);
  }, 40_000);

  afterAll(async () => {
    await stopServing(server);
    await rtp?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('vmpilot store migrate brings an empty database to the current schema and says so', async () => {
    const first = await runCli('store', 'migrate', '--config', serverConfig);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`schema version 0 -> ${PG_SCHEMA_VERSION}`);
    const again = await runCli('store', 'migrate', '--config', serverConfig);
    expect(again.stdout).toContain(`already at schema version ${PG_SCHEMA_VERSION}`);
  }, 40_000);

  it('a message left by a caller is listed, from another host\'s folder, as a playable WAV of what was streamed', async () => {
    server = serve(serverConfig);
    await logLine(server, 'vmpilot listening', 30_000);
    await leaveMessage();
    const listed = await listMessages();
    expect(listed).toHaveLength(1);
    const [m] = listed as [ListedMessage];
    expect(m).toMatchObject({ folder: 'new', from: '27001' });
    expect(isAbsolute(m.audioPath)).toBe(true);
    expect(m.audioPath.startsWith(join(dir, 'other-host-data', 'messages', '27000'))).toBe(true);
    const bytes = await readFile(m.audioPath);
    const info = parseWavHeader(bytes);
    expect(bytes.readUInt32LE(info.dataOffset - 4)).toBe(bytes.length - info.dataOffset);
    const { samples, durationMs } = await readRecording(m.audioPath);
    expect(Math.abs(durationMs - m.durationMs)).toBeLessThanOrEqual(1);
    expect(compareTones(findTones(samples), TONES_3S, { ms: 20 }).problems).toEqual([]);
  }, 90_000);

  it('a message recorded while PostgreSQL is down is kept, and stored when it is back; later calls deposit as usual', async () => {
    const from = server.stdout().split('\n').length;
    const calling = leaveMessage();
    // The greeting is playing: the mailbox was found and checked for room; the deposit comes after the beep.
    await waitForRecord(server, (r) => r.msg === 'greeting', 'the greeting', 30_000, from - 1);
    await pg.stop();
    await calling;
    await waitForRecord(server, (r) => r.msg.startsWith('store unreachable; message kept'), 'the kept deposit', 20_000, from - 1);
    await pg.start();
    await waitForRecord(server, (r) => r.msg === 'kept message committed', 'the kept message committed', 20_000, from - 1);
    expect(await listMessages()).toHaveLength(2);
    await leaveMessage();
    await waitFor(() => server.stdout().split('\n').slice(from).some((l) => l.includes('"message stored"')), 'a third message stored');
    const listed = await listMessages();
    expect(listed).toHaveLength(3);
    for (const m of listed) expect((await readFile(m.audioPath)).length).toBeGreaterThan(44);
    for (const m of listed) seenIds.add(m.id);
  }, 120_000);

  it('a call that begins while PostgreSQL is down leaves its message, stored when PostgreSQL is back', async () => {
    const from = server.stdout().split('\n').length;
    await pg.stop();
    // The mailbox is found as last read (the store's mailbox cache): greeting, beep, recording, kept deposit.
    await leaveMessage();
    await waitForRecord(server, (r) => r.msg.startsWith('store unreachable; message kept'), 'the kept deposit', 20_000, from - 1);
    await pg.start();
    await waitForRecord(server, (r) => r.msg === 'kept message committed', 'the kept message committed', 20_000, from - 1);
    const listed = await listMessages();
    expect(listed).toHaveLength(4);
    const newest = listed.find((m) => !seenIds.has(m.id))!;
    expect(newest).toMatchObject({ folder: 'new', from: '27001' });
    const { samples } = await readRecording(newest.audioPath);
    expect(compareTones(findTones(samples), TONES_3S, { ms: 20 }).problems).toEqual([]);
  }, 120_000);

  it('a server whose storage.url reaches no database exits 1 at start, naming it without its password', async () => {
    const port = await freeTcpPort();
    const badConfig = join(dir, 'bad.yaml');
    const badRtp = await reserveRtpPorts(20);
    writeConfig(badConfig, join(dir, 'bad-data'), `postgres://vm:s3cret@127.0.0.1:${port}/vmpilot`, badRtp.ports);
    // Its own SIP port: the running server holds the other one.
    writeFileSync(badConfig, (await readFile(badConfig, 'utf8')).replace(`udp:127.0.0.1:${sipPort}`, `udp:127.0.0.1:${await freeUdpPort()}`));
    const bad = serve(badConfig);
    const exit = await bad.exited;
    await badRtp.release();
    expect(exit.code).toBe(1);
    const said = bad.stdout() + exit.stderr;
    expect(said).toContain(`cannot reach the PostgreSQL store at postgres://vm:***@127.0.0.1:${port}/vmpilot`);
    expect(said).not.toContain('s3cret');
  }, 40_000);
});
