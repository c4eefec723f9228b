/**
 * /metrics and call records against the real server after real SIPp calls (one server, the built-in
 * voicemail and attendant apps, SIPp as PBX and caller over UDP):
 * - a message left: calls_total{voicemail,message}, deposits and their duration and size histograms, SIP
 *   requests and responses by method and code, RTP packets both ways, the pacing histogram, the store's
 *   deposit latency and the unsolicited MWI NOTIFY the PBX (a raw UDP peer) answers 200, each moved by what
 *   one call does;
 * - an INVITE refused before routing (406) is recorded and counted; a wrong PIN moves pin_failures_total;
 * - a call to an unknown number: calls_total{none,rejected} and responses{out,INVITE,404} by one;
 * - a log-in, an attendant transfer (REFER) and an attendant caller who chose nothing (abandoned in menu
 *   main) each leave their record;
 * - `vmpilot calls --since 1h --json` and `--csv` print those five records with the right outcomes; a bad
 *   --since is a usage error (exit 2).
 * Not covered here: the cluster's merged /metrics (metrics-cluster.test.ts), retransmission counting (unit:
 * sip-traffic.test.ts), mail counters and MWI NOTIFYs in SUBSCRIBE dialogs (counted beside their logs).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { runCli } from '../helpers/cli-process.js';
import { parsePromText, sumOf, type PromSample } from '../helpers/prom-text.js';
import { runSipp, type SippRun } from '../helpers/sipp.js';
import { invite, okFor, RawUdpPeer } from '../helpers/raw-peer.js';
import { ackForFinal } from '../helpers/cluster.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import type { TestServer } from '../helpers/test-server.js';

const PIN = '7391';
/** The config; the PBX (loopback, where SIPp runs) takes unsolicited MWI at `mwiPort` (a raw UDP peer). */
const yaml = (mwiPort: number): string => `
services: { voicemail: ["8000"], attendant: ["8001"] }
pbx:
  - { name: raw, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${mwiPort}"] } }
mwi: { resendOnStart: false }
mailboxes:
  - { number: "27000", pin: "${PIN}", name: "Alice Example" }
  - { number: "27001", pin: "7392", name: "Bob Smith" }
voicemail: { reviewMenu: false, timeZone: UTC }
attendants:
  - pilots: ["8001"]
    extensions: ["27000-27099"]
    interDigitMs: 1500
    menu: main
    menus:
      main:
        greeting: [attendant_welcome]
        dialExtensions: true
        timeoutMs: 1000
        retries: 0
        default: hangup
`;

let api: ApiServer;
let pbx: RawUdpPeer;
let ts: TestServer;
let configFile: string;

/** GET /metrics with the API token, as Prometheus scrapes it. */
async function scrape(): Promise<PromSample[]> {
  const res = await api.call('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

/** Runs one SIPp call and waits until its record is made (calls_total moved) and written. */
async function call(run: Omit<SippRun, 'transport' | 'port'>): Promise<void> {
  const finished = sumOf(await scrape(), 'vmpilot_calls_total');
  const result = await runSipp({ transport: 'udp', port: ts.port('udp'), timeoutS: 45, ...run });
  if (result.code !== 0) throw new Error(`SIPp ${run.scenario} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
  const end = Date.now() + 10_000;
  while (sumOf(await scrape(), 'vmpilot_calls_total') === finished) {
    if (Date.now() > end) throw new Error(`no call record after ${run.scenario}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await ts.server.callRecords.flush();
}

/** How much a series moved between two scrapes. */
function moved(before: PromSample[], after: PromSample[]) {
  return (name: string, labels: Record<string, string> = {}): number => sumOf(after, name, labels) - sumOf(before, name, labels);
}

describe('metrics and call records after real calls', () => {
  beforeAll(async () => {
    pbx = await RawUdpPeer.open();
    api = await startApiServer(yaml(pbx.port));
    ts = api.ts;
    // An owner who has used the mailbox before (no first-log-in tutorial).
    const store = await openSqliteStore(ts.dir);
    await store.updateMailbox('27000', { setupDone: true, mustChangePin: false });
    await store.close();
    configFile = join(ts.dir, 'cli.yaml');
    writeFileSync(configFile, `storage: { dir: ${JSON.stringify(ts.dir)} }\n${yaml(pbx.port)}`);
  });

  afterAll(async () => {
    await api?.stop();
    pbx?.close();
  });

  it('/metrics needs the API token like the rest of the API', async () => {
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(401);
  });

  it('a message left moves calls, deposits, SIP, RTP, pacing and store latency by one call', async () => {
    const before = await scrape();
    await call({
      scenario: 'uac-vm-deposit.xml',
      service: '8000',
      extra: ['-key', 'vm_from', '"Bob Smith" <sip:27001@127.0.0.1>', '-key', 'vm_header', 'Diversion: <sip:27000@127.0.0.1>;reason=no-answer'],
    });
    // The lamp: the PBX answers the NOTIFY 200.
    const notify = await pbx.waitFor((t) => t.startsWith('NOTIFY '), 5000);
    await pbx.send(ts.port('udp'), okFor(notify.text));
    // The size is read from the stored file after the deposit, the NOTIFY's answer comes later: wait (bounded).
    let after = await scrape();
    const settled = (): boolean => moved(before, after)('vmpilot_deposit_size_bytes_count') === 1 && moved(before, after)('vmpilot_mwi_notifies_total') === 1;
    for (let i = 0; i < 100 && !settled(); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await scrape();
    }
    const d = moved(before, after);
    expect(d('vmpilot_calls_total', { app: 'voicemail', outcome: 'message' })).toBe(1);
    expect(d('vmpilot_calls_total')).toBe(1);
    expect(d('vmpilot_deposits_total')).toBe(1);
    expect(d('vmpilot_deposit_duration_seconds_count')).toBe(1);
    // 3 s of tones and the silence to '#': between 3 and 6 s, so the 5 s bucket may or may not hold it.
    expect(d('vmpilot_deposit_duration_seconds_bucket', { le: '10' })).toBe(1);
    expect(d('vmpilot_deposit_duration_seconds_bucket', { le: '1' })).toBe(0);
    expect(d('vmpilot_deposit_size_bytes_count')).toBe(1);
    expect(d('vmpilot_deposit_size_bytes_sum')).toBeGreaterThan(3 * 16_000);
    expect(d('vmpilot_sip_requests_total', { direction: 'in', method: 'INVITE' })).toBe(1);
    expect(d('vmpilot_sip_requests_total', { direction: 'in', method: 'ACK' })).toBe(1);
    expect(d('vmpilot_sip_requests_total', { direction: 'out', method: 'BYE' })).toBe(1);
    expect(d('vmpilot_sip_responses_total', { direction: 'out', method: 'INVITE', code: '100' })).toBe(1);
    expect(d('vmpilot_sip_responses_total', { direction: 'out', method: 'INVITE', code: '200' })).toBe(1);
    expect(d('vmpilot_sip_responses_total', { direction: 'in', method: 'BYE', code: '200' })).toBe(1);
    // 3 s of audio in (150 packets at 20 ms); greeting, beep and goodbye out.
    expect(d('vmpilot_rtp_packets_total', { direction: 'in' })).toBeGreaterThanOrEqual(150);
    expect(d('vmpilot_rtp_packets_total', { direction: 'out' })).toBeGreaterThan(100);
    expect(d('vmpilot_rtp_pacing_interval_seconds_count')).toBeGreaterThan(100);
    expect(d('vmpilot_rtp_pacing_interval_seconds_bucket', { le: '+Inf' })).toBe(d('vmpilot_rtp_pacing_interval_seconds_count'));
    expect(d('vmpilot_store_operation_seconds_count', { operation: 'deposit', result: 'ok' })).toBe(1);
    expect(d('vmpilot_mwi_notifies_total', { kind: 'unsolicited', result: 'delivered' })).toBe(1);
    expect(sumOf(after, 'vmpilot_calls_active')).toBe(0);
    expect(sumOf(after, 'vmpilot_event_loop_delay_seconds', { quantile: '0.99' })).toBeGreaterThan(0);
  }, 60_000);

  it('a call to a number nobody serves is rejected 404 and counted as such', async () => {
    const before = await scrape();
    await call({ scenario: 'uac-rejected-404.xml', service: '99999' });
    const d = moved(before, await scrape());
    expect(d('vmpilot_calls_total', { app: 'none', outcome: 'rejected' })).toBe(1);
    expect(d('vmpilot_calls_total')).toBe(1);
    expect(d('vmpilot_sip_responses_total', { direction: 'out', method: 'INVITE', code: '404' })).toBe(1);
    expect(d('vmpilot_sip_requests_total', { direction: 'in', method: 'ACK' })).toBe(1);
    expect(d('vmpilot_rtp_packets_total')).toBe(0);
  }, 30_000);

  it('an INVITE refused before routing (it accepts no SDP: 406) still leaves a record', async () => {
    const before = await scrape();
    const peer = await RawUdpPeer.open();
    try {
      const text = invite({ port: peer.port, callId: 'no-sdp-accepted', extra: 'Accept: text/plain' });
      await peer.send(ts.port('udp'), text);
      const final = await peer.waitFor((t) => /^SIP\/2\.0 406 /.test(t), 3000);
      await peer.send(ts.port('udp'), ackForFinal(text, final.text));
    } finally {
      peer.close();
    }
    await ts.server.callRecords.flush();
    const d = moved(before, await scrape());
    expect(d('vmpilot_calls_total', { app: 'none', outcome: 'rejected' })).toBe(1);
    expect(d('vmpilot_sip_responses_total', { direction: 'out', method: 'INVITE', code: '406' })).toBe(1);
  }, 30_000);

  it('the owner logs in after one wrong PIN, which is counted', async () => {
    const before = await scrape();
    // After a wrong PIN the mailbox number is asked too (login.ts: the caller's own number only on the first try, as
    // Asterisk's VoiceMailMain does), then the PIN; the last '#' leaves the session (the server hangs up).
    await call({ scenario: 'uac-vm-login-keys.xml', service: '8000', extra: ['-key', 'keys1', '0000#27000#', '-key', 'keys2', `${PIN}##`] });
    expect(moved(before, await scrape())('vmpilot_pin_failures_total')).toBe(1);
  }, 45_000);

  it('an attendant caller dials 27001# and is transferred by REFER', async () => {
    await call({ scenario: 'uac-aa-transfer.xml', service: '8001', extra: ['-key', 'keys', '27001#', '-key', 'target', '27001'] });
  }, 45_000);

  it('an attendant caller who chooses nothing is said goodbye in the main menu', async () => {
    await call({ scenario: 'uac-aa-hung-up.xml', service: '8001', extra: ['-key', 'keys', '#'] });
  }, 45_000);

  it('vmpilot calls --since 1h --json lists each call with its outcome, newest first', async () => {
    const run = await runCli('calls', '--since', '1h', '--json', '--config', configFile);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const records = JSON.parse(run.stdout) as Record<string, unknown>[];
    const store = await openSqliteStore(ts.dir);
    const [message] = await store.listMessages('27000', 'new');
    await store.close();
    expect(records.map((r) => [r.app, r.outcome, r.detail])).toEqual([
      ['attendant', 'abandoned', 'main'],
      ['attendant', 'transfer', '27001'],
      ['voicemail', 'login', '27000'],
      ['', 'rejected', '406'],
      ['', 'rejected', '404'],
      ['voicemail', 'message', '27000'],
    ]);
    const [abandoned, transfer, login, refused, rejected, deposit] = records;
    expect(refused).toMatchObject({ callId: 'no-sdp-accepted', from: '27000', pilot: '8000', answeredAt: null });
    expect(deposit).toMatchObject({ from: '27001', to: '27000', pilot: '8000', messageId: message!.id, worker: null });
    expect(rejected).toMatchObject({ from: '27000', to: '99999', pilot: '99999', answeredAt: null, messageId: null });
    expect(login).toMatchObject({ from: '27000', to: '8000', pilot: '8000' });
    expect(transfer).toMatchObject({ from: '0701234567', pilot: '8001' });
    for (const r of [abandoned, transfer, login, deposit]) {
      const offered = Date.parse(r!.offeredAt as string);
      const answered = Date.parse(r!.answeredAt as string);
      const ended = Date.parse(r!.endedAt as string);
      expect(offered).toBeLessThanOrEqual(answered);
      expect(answered).toBeLessThanOrEqual(ended);
      expect(Date.now() - offered).toBeLessThan(3_600_000);
      expect(typeof r!.callId).toBe('string');
    }
  }, 30_000);

  it('vmpilot calls --csv prints the same records as CSV, and --from filters', async () => {
    const run = await runCli('calls', '--since', '1h', '--csv', '--from', '27000', '--config', configFile);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe('callId,offeredAt,answeredAt,endedAt,from,to,pilot,app,outcome,detail,messageId,worker');
    expect(lines.slice(1).map((l) => l.split(',').slice(4, 10))).toEqual([
      ['27000', '8000', '8000', 'voicemail', 'login', '27000'],
      ['27000', '8000', '8000', '', 'rejected', '406'],
      ['27000', '99999', '99999', '', 'rejected', '404'],
    ]);
  }, 30_000);

  it('GET /api/calls answers the same records as JSON, and as CSV with format=csv; a bad since is a 422 problem', async () => {
    const json = (await (await api.call('/api/calls?since=1h&from=27000')).json()) as Record<string, unknown>[];
    expect(json.map((r) => r.outcome)).toEqual(['login', 'rejected', 'rejected']);
    const csv = await api.call('/api/calls?since=1h&to=8001&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).trimEnd().split('\r\n').slice(1).map((l) => l.split(',')[8]);
    expect(rows).toEqual(['abandoned', 'transfer']);
    expect(((await (await api.call('/api/calls?limit=1')).json()) as unknown[]).length).toBe(1);
    const bad = await api.call('/api/calls?since=yesterday');
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('query.since');
  }, 30_000);

  it('a --since that is not a time is a usage error (exit 2) saying what it accepts', async () => {
    const run = await runCli('calls', '--since', 'yesterday', '--config', configFile);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--since "yesterday" is not a time');
    expect(run.stdout).toBe('');
  }, 30_000);
});
