/**
 * A call addressed to a mailbox's own number (issue 9 item 14): the PBX or a phone dials the mailbox directly
 * (Asterisk's Dial(SIP/vmpilot/27000), a DID routed to vmpilot) rather than the voicemail pilot. The real
 * server with its own voicemail app (no test hook), SIPp as the PBX over UDP.
 *
 * Covers: an INVITE to the mailbox number leaves a message in it (reason direct); one to a DID alias of the
 * mailbox too; one to a mailbox created while the server runs (another process's store change, followed
 * through the change feed) once the router has heard of it; one to a number that is neither a pilot nor a
 * mailbox still gets 404.
 * Does not cover: the mailbox choice among Diversion/History-Info (vm-deposit.test.ts, vm-addressing.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { SipUac } from '../helpers/sip-client.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/test-server.js';

let ts: TestServer;
let store: SqliteStore;

const MAILBOXES = `mailboxes:
  - { number: "27000", pin: "135790", name: "Alice Example", aliases: ["+4687002700"] }`;

beforeAll(async () => {
  ts = await startTestServer(`services: { voicemail: ["8000"], attendant: ["8001"] }\nvoicemail: { reviewMenu: false }\n${MAILBOXES}`);
  // Another process's view of the same store (the CLI's): reads the messages, adds a mailbox at run time.
  store = await openSqliteStore(ts.dir);
});

afterAll(async () => {
  await store?.close();
  await ts?.stop();
});

/** SIPp leaves a message (uac-vm-deposit.xml) in a call to `number`, with no Diversion or History-Info. */
function deposit(number: string): Promise<SippResult> {
  return runSipp({
    scenario: 'uac-vm-deposit.xml',
    transport: 'udp',
    port: ts.port('udp'),
    service: number,
    timeoutS: 30,
    extra: ['-key', 'vm_from', '"Bob Smith" <sip:27001@127.0.0.1>', '-key', 'vm_header', 'X-Test: dialled directly'],
  });
}

function expectOk(result: SippResult): void {
  if (result.code !== 0) throw new Error(`SIPp failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
}

async function messagesOf(mailbox: string): Promise<number> {
  return (await store.listMessages(mailbox, 'new')).length;
}

describe('a call to a mailbox number', () => {
  it('an INVITE to the mailbox number leaves a message in that mailbox, reason direct', async () => {
    expectOk(await deposit('27000'));
    await waitFor(() => ts.server.calls.size === 0, 'the call to end');
    const messages = await store.listMessages('27000', 'new');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ mailbox: '27000', from: '27001', fromName: 'Bob Smith', reason: 'direct' });
    expect(messages[0]!.durationMs).toBeGreaterThanOrEqual(2500);
  });

  it('an INVITE to a DID alias of the mailbox leaves the message in that mailbox', async () => {
    const before = await messagesOf('27000');
    expectOk(await deposit('+4687002700'));
    await waitFor(() => ts.server.calls.size === 0, 'the call to end');
    expect(await messagesOf('27000')).toBe(before + 1);
  });

  it('a mailbox created while the server runs is reachable by its number once the router has heard of it', async () => {
    await store.createMailbox({ number: '27050', name: 'New Starter', pin: '135790' });
    // The server hears of another process's change through the store's change feed (polled): allow it 5 s.
    let result: SippResult | undefined;
    for (const end = Date.now() + 5000; Date.now() < end; ) {
      result = await deposit('27050');
      if (result.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expectOk(result!);
    await waitFor(() => ts.server.calls.size === 0, 'the call to end');
    expect(await messagesOf('27050')).toBe(1);
  });

  it('an INVITE to a number that is neither a pilot nor a mailbox still gets 404', async () => {
    const uac = await SipUac.open(ts.port('udp'));
    try {
      const response = await uac.invite('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n', '29999');
      expect(response.status).toBe(404);
    } finally {
      uac.close();
    }
  });
});
