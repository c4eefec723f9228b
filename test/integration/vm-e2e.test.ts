/**
 * Voicemail end to end, as a site runs it: the real `vmpilot serve` process (src/admin/cli.ts through tsx) with
 * a config file that names the mailbox 27000, a PBX at 127.0.0.1 whose MWI target is a SIPp UAS, and an SMTP
 * server; SIPp plays the PBX (forwarding callers, receiving MWI) and the phones. `vmpilot messages --json` is
 * run as a separate process, as an operator would, to see what is stored.
 *
 * The tests run in order and build on one mailbox, the way the lamp on the owner's phone lives through a day:
 * 1. at start-up the PBX is told the mailbox's state (mwi.resendOnStart): Messages-Waiting: no, 0/0;
 * 2. a caller forwarded with Diversion leaves a message (tones-3s streamed): the PBX gets Messages-Waiting:
 *    yes, Voice-Message: 1/0 (0/0); `vmpilot messages` lists one new message whose length is what was
 *    streamed and whose WAV holds every tone in its place; the owner gets an email;
 * 3. the server is killed (SIGKILL) 4 s into a second recording and started again with the same config: the
 *    start-up log reports the repair, the PBX is told 2/0, and `vmpilot messages` lists the cut-short message
 *    in the new folder, at least 2 s long, as a WAV whose header counts exactly the bytes in the file;
 * 4. a phone SUBSCRIBEs to message-summary for 27000 and gets a NOTIFY with the current counts (2/0), then
 *    unsubscribes (terminated NOTIFY);
 * 5. the owner calls the pilot from 27000, enters the PIN, hears the first message to its end (the PBX gets
 *    1/1 before any key is pressed in the message) and saves the second with 9: the PBX gets
 *    Messages-Waiting: no, 0/2, and `vmpilot messages` shows both saved and heard.
 *
 * Does not cover (other files do): greetings and reasons (vm-deposit.test.ts), the menus key by key, wrong
 * PINs and lock-out (vm-retrieval.test.ts and unit tests), MWI failover and SUBSCRIBE refresh/expiry
 * (mwi.test.ts), TCP/TLS. The first-log-in tutorial is not run here: the mailbox is created through the store
 * before the first start with its set-up done and its PIN changed, as an owner who has used it before.
 *
 * SIPp runs from the repository root (audio paths in the scenarios are relative to it), as npm test does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWavHeader, PCM_HEADER_LENGTH } from '../../src/media/wav.js';
import { storeLayout } from '../../src/store/layout.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { compareTones, findTones, LONG_25S, readRecording, TONES_3S } from '../helpers/audio-analysis.js';
import { reserveRtpPorts, type RtpRange } from '../helpers/rtp-range.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { readMime, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitFor } from '../helpers/test-server.js';
import { CLI, ROOT, freeUdpPort, logLine, stopServing, logRecords, serve, type Serving } from '../helpers/cli-process.js';

const PIN = '7391';
const BOB = '"Bob Smith" <sip:27001@127.0.0.1>';
const DIVERSION = 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1';


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));





/** One message as `vmpilot messages --json` prints it (DESIGN.md, the operator's contract). */
interface ListedMessage {
  id: string;
  folder: 'new' | 'saved' | 'deleted';
  from: string;
  fromName: string;
  receivedAt: string;
  durationMs: number;
  urgent: boolean;
  heard: boolean;
  audioPath: string;
}

/** `vmpilot messages NUMBER --json --config FILE`, a process of its own. */
async function listMessages(mailbox: string): Promise<ListedMessage[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'messages', mailbox, '--json', '--config', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) throw new Error(`vmpilot messages exited ${code}:\n${stderr}\n${stdout}`);
  return JSON.parse(stdout) as ListedMessage[];
}

function expectSippOk(result: SippResult, what: string): void {
  if (result.code !== 0) throw new Error(`SIPp ${what} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
  expect(result.successful, what).toBe(1);
}

/**
 * The PBX: a SIPp UAS on the MWI target port that expects exactly one NOTIFY (the scenario checks it).
 * Resolves once SIPp had time to bind; `done` settles when SIPp exits.
 */
async function pbxExpecting(scenario: string): Promise<{ done: Promise<SippResult> }> {
  const done = runSipp({ scenario, transport: 'udp', port: sipPort, timeoutS: 45, extra: ['-p', String(pbxPort), '-mp', String(pbxMediaPort)] });
  await sleep(300); // SIPp binds its port
  return { done };
}

/** The WAV as a player reads it, with its header's sizes checked against the file's. */
async function expectPlayableWav(path: string): Promise<{ samples: Int16Array; durationMs: number }> {
  const bytes = await readFile(path);
  const info = parseWavHeader(bytes);
  expect(info).toMatchObject({ encoding: 'pcm16', sampleRate: 8000, channels: 1, dataOffset: PCM_HEADER_LENGTH });
  // The header counts exactly what the file holds: RIFF size and data size (not 0, not more, not less).
  expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
  expect(bytes.readUInt32LE(info.dataOffset - 4)).toBe(bytes.length - info.dataOffset);
  return readRecording(path);
}

let dir: string;
let configFile: string;
let sipPort: number;
let pbxPort: number;
let pbxMediaPort: number;
let rtp: RtpRange | undefined;
let smtp: SmtpSink;
let server: Serving;
let startupNotify: { done: Promise<SippResult> };

describe('vmpilot serve, end to end: deposit, MWI, crash repair, SUBSCRIBE, retrieval', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmpilot-e2e-'));
    sipPort = await freeUdpPort();
    pbxPort = await freeUdpPort();
    // 20 ports for the server, the 4 above them for SIPp's media (-mp; it binds the port and the one 2 up).
    rtp = await reserveRtpPorts(24);
    pbxMediaPort = rtp.min + 20;
    smtp = await startSmtpSink();
    configFile = join(dir, 'vmpilot.yaml');
    const storageDir = join(dir, 'data');
    writeFileSync(
      configFile,
      [
        'sip:',
        `  listen: ["udp:127.0.0.1:${sipPort}"]`,
        `rtp: { address: 127.0.0.1, ports: "${rtp.min}-${rtp.min + 19}" }`,
        `storage: { dir: ${JSON.stringify(storageDir)} }`,
        'http: false',
        'services: { voicemail: ["8000"], attendant: ["8001"] }',
        'pbx:',
        `  - { name: sipp, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbxPort}"] } }`,
        'mailboxes:',
        `  - { number: "27000", pin: "${PIN}", name: "Alice Example", email: alice@example.com }`,
        'voicemail: { reviewMenu: false, timeZone: UTC }',
        `smtp: { host: 127.0.0.1, port: ${smtp.port}, from: vmpilot@example.com }`,
        // debug: the 'key' and 'MWI NOTIFY delivered' lines order the owner's keys and the PBX's NOTIFYs.
        'log: { level: debug }',
        '',
      ].join('\n'),
    );
    // An owner who has used the mailbox before: set-up done and the PIN changed (no first-log-in tutorial).
    const store = await openSqliteStore(storageDir);
    await store.createMailbox({ number: '27000', pin: PIN, name: 'Alice Example' });
    await store.updateMailbox('27000', { setupDone: true, mustChangePin: false });
    await store.close();

    startupNotify = await pbxExpecting('uas-e2e-mwi-none.xml');
    server = serve(configFile);
    await logLine(server, 'vmpilot listening');
  }, 40_000);

  afterAll(async () => {
    await stopServing(server);
    await smtp?.close();
    await rtp?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('at start-up the PBX is sent the mailbox state: Messages-Waiting: no, Voice-Message: 0/0 (0/0)', async () => {
    expectSippOk(await startupNotify.done, 'uas-e2e-mwi-none.xml');
  }, 45_000);

  it('a message left via Diversion lights the lamp (NOTIFY 1/0 (0/0) to the PBX) and is listed with the audio streamed', async () => {
    const pbx = await pbxExpecting('uas-e2e-mwi-one-new.xml');
    const call = await runSipp({
      scenario: 'uac-vm-deposit.xml',
      transport: 'udp',
      port: sipPort,
      service: '8000',
      timeoutS: 30,
      extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION],
    });
    expectSippOk(call, 'uac-vm-deposit.xml');
    expectSippOk(await pbx.done, 'uas-e2e-mwi-one-new.xml');

    const listed = await listMessages('27000');
    expect(listed).toHaveLength(1);
    const [m] = listed as [ListedMessage];
    expect(m).toMatchObject({ folder: 'new', from: '27001', fromName: 'Bob Smith', urgent: false, heard: false });
    expect(Number.isNaN(Date.parse(m.receivedAt))).toBe(false);
    // The 3.000 s stream, a little silence before it (beep to first packet) and the silence until '#', which
    // uac-vm-deposit.xml sends 350-450 ms after the stream ends (SIPp's timing on a loaded machine adds more).
    expect(m.durationMs).toBeGreaterThanOrEqual(3000);
    expect(m.durationMs).toBeLessThanOrEqual(5000);
    expect(isAbsolute(m.audioPath)).toBe(true);
    const { samples, durationMs } = await expectPlayableWav(m.audioPath);
    expect(Math.abs(durationMs - m.durationMs)).toBeLessThanOrEqual(1);
    expect(compareTones(findTones(samples), TONES_3S, { ms: 20 }).problems).toEqual([]);

    // The owner's email (nodemailer to the SMTP server of the config).
    await waitFor(() => smtp.mails.length === 1, 'the new-voicemail email', 10_000);
    const mail = readMime(smtp.mails[0]!.raw);
    expect(smtp.mails[0]!.to).toEqual(['alice@example.com']);
    expect(mail.headers.get('subject')).toBe('New voicemail from Bob Smith (27001)');
  }, 60_000);

  it('a server killed during a recording keeps the message: after a restart it is listed, new, playable, and the PBX is told 2/0', async () => {
    const tmp = storeLayout(join(dir, 'data')).tmpDir;
    const call = runSipp({
      scenario: 'uac-e2e-deposit-crash.xml',
      transport: 'udp',
      port: sipPort,
      service: '8000',
      timeoutS: 30,
      extra: ['-key', 'vm_from', BOB, '-key', 'vm_header', DIVERSION],
    });
    // The recording starts when its WAV appears in the server's own folder under tmp/ (after the beep).
    const recording = async (): Promise<boolean> => (await readdir(tmp, { recursive: true })).some((f) => /(^|\/)vm-[^/]*\.wav$/.test(f));
    const end = Date.now() + 15_000;
    while (!(await recording())) {
      if (Date.now() > end) throw new Error(`no recording started:\n${server.stdout().slice(-3000)}`);
      await sleep(20);
    }
    await sleep(4000);
    server.child.kill('SIGKILL');
    expect((await server.exited).signal).toBe('SIGKILL');
    expectSippOk(await call, 'uac-e2e-deposit-crash.xml');

    const pbx = await pbxExpecting('uas-e2e-mwi-two-new.xml');
    server = serve(configFile);
    await logLine(server, 'vmpilot listening');
    const repaired = await logLine(server, 'message store repaired');
    expect(repaired.level).toBe('warn');
    expect((repaired.repair as { reattached: string[] }).reattached).toHaveLength(1);
    // The PBX may have missed the change while vmpilot was down: the state is re-sent at start-up.
    expectSippOk(await pbx.done, 'uas-e2e-mwi-two-new.xml');

    const listed = await listMessages('27000');
    expect(listed.map((m) => m.folder)).toEqual(['new', 'new']);
    const recovered = listed.find((m) => m.id === (repaired.repair as { reattached: string[] }).reattached[0]);
    expect(recovered).toMatchObject({ folder: 'new', from: '27001', fromName: 'Bob Smith', heard: false });
    expect(recovered!.durationMs).toBeGreaterThanOrEqual(2000);
    expect(recovered!.durationMs).toBeLessThanOrEqual(5000);
    const { samples, durationMs } = await expectPlayableWav(recovered!.audioPath);
    expect(Math.abs(durationMs - recovered!.durationMs)).toBeLessThanOrEqual(1);
    // What the caller said before the crash: long-25s's 440 Hz, on for its first second.
    const tones = findTones(samples);
    expect(tones.length).toBeGreaterThanOrEqual(1);
    expect(Math.abs(tones[0]!.hz - LONG_25S.hz)).toBeLessThanOrEqual(15);
    // No recording left under tmp/ (the running server's own folder, and empty folders of CLI runs, remain).
    expect((await readdir(tmp, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())).toEqual([]);
  }, 60_000);

  it('a phone that SUBSCRIBEs to message-summary for 27000 gets a NOTIFY with the current counts (2/0 (0/0))', async () => {
    const result = await runSipp({ scenario: 'uac-e2e-subscribe-mwi.xml', transport: 'udp', port: sipPort, service: '27000', timeoutS: 20 });
    expectSippOk(result, 'uac-e2e-subscribe-mwi.xml');
    expect(logRecords(server).filter((r) => r.msg === 'MWI subscription accepted').map((r) => r.mailbox)).toEqual(['27000']);
  }, 30_000);

  it('the owner logs in from 27000 and hears both messages: the PBX gets 1/1, then Messages-Waiting: no, 0/2', async () => {
    const pbxFirst = await pbxExpecting('uas-e2e-mwi-one-heard.xml');
    const call = runSipp({ scenario: 'uac-e2e-owner-listen.xml', transport: 'udp', port: sipPort, service: '8000', timeoutS: 60, extra: ['-key', 'pin', PIN] });
    expectSippOk(await pbxFirst.done, 'uas-e2e-mwi-one-heard.xml');
    // The next NOTIFY comes when the second message is saved, seconds later.
    const pbxLast = await pbxExpecting('uas-e2e-mwi-all-heard.xml');
    expectSippOk(await call, 'uac-e2e-owner-listen.xml');
    expectSippOk(await pbxLast.done, 'uas-e2e-mwi-all-heard.xml');

    const logs = logRecords(server);
    const login = logs.findIndex((r) => r.msg === 'owner logged in');
    expect(login).toBeGreaterThanOrEqual(0);
    expect(logs[login]).toMatchObject({ mailbox: '27000' });
    // The first message was heard to its end (its NOTIFY, 1/1, left before any save); the second was saved.
    const after = logs.slice(login);
    const playedToEnd = after.findIndex((r) => r.msg === 'message played to the end');
    const firstNotify = after.findIndex((r) => r.msg === 'MWI NOTIFY delivered' && r.target !== undefined);
    const firstSave = after.findIndex((r) => r.msg === 'message action' && r.action === 'save');
    expect(playedToEnd).toBeGreaterThanOrEqual(0);
    expect(firstNotify).toBeGreaterThan(playedToEnd);
    expect(firstSave).toBeGreaterThan(firstNotify);
    // Keys themselves never reach the log (they include the PIN).
    expect(logs.some((r) => r.key !== undefined)).toBe(false);

    const listed = await listMessages('27000');
    expect(listed.map((m) => [m.folder, m.heard])).toEqual([
      ['saved', true],
      ['saved', true],
    ]);
  }, 75_000);
});
