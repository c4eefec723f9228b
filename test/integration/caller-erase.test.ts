/**
 * A caller's data, end to end (seed 002: erase by caller number): a real server, two callers leave messages
 * for 27000 through SIPp, the PBX's MWI target answers NOTIFYs. The API lists one caller's messages and calls,
 * then erases them: the audio is gone, the call records too, and the lamp follows (NOTIFY 1/0). `vmpilot
 * caller erase` from the command line, beside the running server, refuses without --yes off a terminal and
 * erases with it: the lamp goes out (0/0). Bad input: an anonymous (empty) caller is refused, a caller
 * nobody knows is an empty answer.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-process.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';
import { pbxWithMwiYaml } from '../helpers/cluster.js';
import { MwiPbx } from '../helpers/mwi-pbx.js';
import { runSipp } from '../helpers/sipp.js';

const DIVERSION = 'Diversion: "Alice Example" <sip:27000@127.0.0.1;user=phone>;reason=no-answer;counter=1';
const BOB = '27001';
const CAROL = '+4930555';

let api: ApiServer;
let pbx: MwiPbx;

/** Waits for a NOTIFY to 27000 whose Voice-Message starts with `state`, after the first `from` NOTIFYs. */
const lampAt = (state: string, from = 0): Promise<unknown> =>
  pbx.waitFor((n) => n.mailbox === '27000' && n.voiceMessage.startsWith(state), `Voice-Message ${state}`, 10_000, from);

interface CallerView {
  caller: string;
  messages: { id: string; mailbox: string; folder: string }[];
  callRecords: { callId: string; from: string; messageId: string | null }[];
}

async function leaveMessage(from: string): Promise<void> {
  const call = await runSipp({
    scenario: 'uac-vm-deposit.xml',
    transport: 'udp',
    port: api.ts.port('udp'),
    timeoutS: 30,
    extra: ['-key', 'vm_from', `"Caller" <sip:${from}@127.0.0.1>`, '-key', 'vm_header', DIVERSION],
  });
  expect(call.failed, call.stderr).toBe(0);
}

beforeAll(async () => {
  pbx = await MwiPbx.open('127.0.0.1');
  api = await startApiServer(`${pbxWithMwiYaml(pbx.port)}\nvoicemail: { reviewMenu: false }`);
  await leaveMessage(BOB);
  await leaveMessage(CAROL);
  await lampAt('2/0');
}, 90_000);

afterAll(async () => {
  await api?.stop();
  pbx?.close();
});

async function callerView(caller: string): Promise<CallerView> {
  const res = await api.call(`/api/callers/${encodeURIComponent(caller)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as CallerView;
}

describe('the HTTP API', () => {
  it("lists one caller's message and call record, not the other caller's", async () => {
    // Call records are written in batches (about a second).
    let bob = await callerView(BOB);
    for (const end = Date.now() + 10_000; bob.callRecords.length === 0 && Date.now() < end; bob = await callerView(BOB)) await new Promise((r) => setTimeout(r, 100));
    expect(bob.messages).toHaveLength(1);
    expect(bob.messages[0]).toMatchObject({ mailbox: '27000', folder: 'new' });
    expect(bob.callRecords[0]).toMatchObject({ from: BOB, messageId: bob.messages[0]!.id });
    expect(await callerView('27999')).toEqual({ caller: '27999', messages: [], callRecords: [] });
  });

  it('erases them: the audio and call record are gone, the other caller keeps theirs, the lamp goes to 1', async () => {
    const id = (await callerView(BOB)).messages[0]!.id;
    const audio = await api.call(`/api/mailboxes/27000/messages/${id}/audio`);
    expect(audio.status).toBe(200);
    await audio.arrayBuffer();
    const notifies = pbx.notifies.length;

    const res = await api.call(`/api/callers/${BOB}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ caller: BOB, messages: 1, queuedEmails: 0, callRecords: 1 });

    expect(await callerView(BOB)).toEqual({ caller: BOB, messages: [], callRecords: [] });
    expect((await api.call(`/api/mailboxes/27000/messages/${id}/audio`)).status).toBe(404);
    await lampAt('1/0', notifies);
    expect((await callerView(CAROL)).messages).toHaveLength(1);
  });

  it('refuses an empty (anonymous) caller with a 422 problem', async () => {
    const res = await api.call('/api/callers/%20', { method: 'DELETE' });
    expect(res.status).toBe(422);
    expect((await res.json()).errors).toEqual([{ path: 'path.caller', message: expect.any(String) }]);
  });
});

describe('vmpilot caller, beside the running server', () => {
  let config: string;

  beforeAll(() => {
    config = join(api.ts.dir, 'cli.yaml');
    writeFileSync(config, `storage: { dir: ${api.ts.dir} }\nhttp: false\n`);
  });

  it("shows the caller's message", async () => {
    const r = await runCli('caller', 'show', CAROL, '--json', '--config', config);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as CallerView;
    expect(view.messages.map((m) => m.mailbox)).toEqual(['27000']);
  });

  it('refuses to erase without --yes when there is no terminal to ask, and erases nothing', async () => {
    const r = await runCli('caller', 'erase', CAROL, '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no terminal to ask for confirmation \(add --yes\)/);
    expect((await callerView(CAROL)).messages).toHaveLength(1);
  });

  it('erases with --yes: the message file is gone and the running server puts the lamp out', async () => {
    const [message] = (await callerView(CAROL)).messages;
    const listed = (await (await api.call('/api/mailboxes/27000/messages')).json()) as { items: { id: string }[] };
    expect(listed.items.map((m) => m.id)).toEqual([message!.id]);
    const notifies = pbx.notifies.length;
    const r = await runCli('caller', 'erase', CAROL, '--yes', '--config', config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`caller ${CAROL}: erased 1 message(s)`);
    expect(existsSync(join(api.ts.dir, 'messages', '27000', `${message!.id}.wav`))).toBe(false);
    await lampAt('0/0', notifies);
  });
});
