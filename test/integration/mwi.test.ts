/**
 * MWI end to end over real sockets: vmpilot's SIP stack and UA core with the MWI notifier and the
 * SUBSCRIBE notifier attached, a small in-memory store in place of the message store, and SIPp or a raw UDP
 * peer as the PBX or phone.
 *
 * Covers — unsolicited NOTIFY (RFC 3842 body, MX-ONE style): sent out of dialog to the PBX target with the
 * mailbox as Request-URI user over UDP and TCP and checked by SIPp; failover to the next target on 503; the
 * PBX's digest challenge answered with its credentials; resend of every mailbox at start-up, paced; a new
 * sender on the same store (a new leader) sending only what the PBX did not acknowledge with a 2xx (a change
 * while no one sent, a refused NOTIFY) and putting out the lamp of a mailbox gone meanwhile, and a full resend;
 * retry after every target failed until one answers.
 * SUBSCRIBE (RFC 6665) — with SIPp over UDP and TCP: 200 (not 202), immediate NOTIFY, NOTIFY on a count
 * change, refresh, unsubscribe with a terminated NOTIFY; digest-challenged SUBSCRIBE (subscribeAuth). With a
 * raw peer: 489 for another package, a number with no mailbox answered exactly as an empty mailbox (issue 9
 * item 5), 423 below the minimum, 481 for an unknown dialog, subscription by alias (Message-Account as
 * subscribed), expiry with reason=timeout, removal after a 481 to a NOTIFY, resumption after a restart from
 * the store's rows, the old subscriptions file imported once, the limits per mailbox, per source and in total
 * (403 / 503 with the reason), and a refresh writing its own row only.
 *
 * Does not cover: the real message store and server.ts wiring (the lead wires these classes in), TLS (no
 * MWI-specific code depends on the transport), backoff timing beyond the first retry (unit tests,
 * mwi-delivery.test.ts), SHA-256 digest (SIPp verifies MD5 only).
 */
import { EventEmitter } from 'node:events';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import { SipStack } from '../../src/sip/stack.js';
import { UserAgentCore } from '../../src/sip/user-agent-core.js';
import { timerSet } from '../../src/sip/transaction/timers.js';
import type { IncomingRequest } from '../../src/sip/incoming-request.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { parseUri, uriUser } from '../../src/sip/uri.js';
import { NoSuchMailboxError, type Mailbox, type MessageCounts, type MwiAckRow, type StoreEvents, type StoredSubscription } from '../../src/store/types.js';
import type { MwiStore } from '../../src/mwi/store-view.js';
import { MwiNotifier } from '../../src/mwi/notifier.js';
import { MwiSubscriptions } from '../../src/mwi/subscriptions.js';
import { parseMessageSummary } from '../../src/mwi/message-summary.js';
import { runSipp, type SippTransport } from '../helpers/sipp.js';
import { RawUdpPeer } from '../helpers/raw-peer.js';
import { waitFor } from '../helpers/test-server.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

const logger = pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' });
const TWO_NEW: MessageCounts = { new: 2, saved: 1, urgentNew: 1, urgentSaved: 0 };
const NONE_NEW: MessageCounts = { new: 0, saved: 3, urgentNew: 0, urgentSaved: 0 };

/** Just what MWI reads from the message store. */
class FakeStore implements MwiStore {
  readonly events = new EventEmitter<StoreEvents>();
  private readonly boxes = new Map<string, Mailbox>();
  private readonly state = new Map<string, MessageCounts>();

  add(number: string, counts: MessageCounts, aliases: string[] = []): void {
    this.boxes.set(number, mailbox(number, aliases));
    this.state.set(number, counts);
  }

  /** Removes a mailbox without a word (deleted by a process whose change no sender heard). */
  remove(number: string): void {
    this.boxes.delete(number);
    this.state.delete(number);
  }

  /** Changes the counts and announces it, as the store does after a deposit or a message heard. */
  set(number: string, counts: MessageCounts): void {
    this.state.set(number, counts);
    this.events.emit('counts', number, counts);
  }

  async findMailbox(numberOrAlias: string): Promise<Mailbox | undefined> {
    return [...this.boxes.values()].find((m) => m.number === numberOrAlias || m.aliases.includes(numberOrAlias));
  }

  async listMailboxes(): Promise<Mailbox[]> {
    return [...this.boxes.values()];
  }

  async counts(number: string): Promise<MessageCounts> {
    // As the store: a number with no mailbox is an error, not zero counts.
    if (!this.boxes.has(number)) throw new NoSuchMailboxError(number);
    return this.state.get(number) ?? { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 };
  }

  /** What each PBX acknowledged, as the store's mwi_acked keeps it. */
  readonly acked = new Map<string, MwiAckRow>();

  async listMwiAcked(): Promise<MwiAckRow[]> {
    return [...this.acked.values()];
  }

  async saveMwiAcked(rows: readonly MwiAckRow[]): Promise<void> {
    for (const row of rows) this.acked.set(`${row.pbx}\n${row.mailbox}`, row);
  }

  /** Subscription rows as the store keeps them, and the id of every row written, in order. */
  readonly subscriptionRows = new Map<string, StoredSubscription>();
  readonly rowsWritten: string[] = [];

  async listSubscriptions(): Promise<StoredSubscription[]> {
    return [...this.subscriptionRows.values()];
  }

  async saveSubscriptions(put: readonly StoredSubscription[], remove: readonly string[]): Promise<void> {
    for (const row of put) {
      this.subscriptionRows.set(row.id, row);
      this.rowsWritten.push(row.id);
    }
    for (const id of remove) this.subscriptionRows.delete(id);
  }
}

function mailbox(number: string, aliases: string[]): Mailbox {
  return mailboxFixture({ number, name: `Box ${number}`, aliases, pinHash: '' });
}

interface NodeOptions {
  store: FakeStore;
  targets?: string[];
  pbxAuth?: { username: string; password: string };
  resendOnStart?: boolean;
  ratePerSecond?: number;
  retryMinMs?: number;
  subscribeAuth?: { realm: string; username: string; password: string };
  importFile?: string;
  limits?: { maxTotal?: number; maxPerSource?: number; maxPerMailbox?: number };
  minExpiresS?: number;
  /** Leave UserAgentCore.onSubscribe unset (the core as it was before MWI). */
  detached?: boolean;
}

/** What we sent as a UAC and how it was answered (final responses only). */
interface Exchange {
  req: SipRequest;
  res?: SipResponse;
}

interface MwiNode {
  notifier: MwiNotifier;
  subscriptions: MwiSubscriptions;
  sent: Exchange[];
  port(transport: 'udp' | 'tcp'): number;
  stop(): Promise<void>;
}

const nodes: MwiNode[] = [];
const peers: RawUdpPeer[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  for (const p of peers.splice(0)) p.close();
});

/** The SIP stack, the UA core and both MWI parts, wired as server.ts is expected to wire them. */
async function startNode(opts: NodeOptions): Promise<MwiNode> {
  const transport = new TransportLayer({ logger });
  await transport.listen([
    { transport: 'udp', host: '127.0.0.1', port: 0 },
    { transport: 'tcp', host: '127.0.0.1', port: 0 },
  ]);
  const timers = { t1Ms: 100, t2Ms: 400, t4Ms: 200 };
  const stack = new SipStack(transport, { logger, timers, userAgent: 'vmpilot-test', isTrusted: () => true, admit: () => true });
  const sent: Exchange[] = [];
  // Watch our own requests and their final responses, to know when a NOTIFY has been answered.
  const send = stack.sendRequest.bind(stack);
  stack.sendRequest = (req, target, user) => {
    const exchange: Exchange = { req };
    sent.push(exchange);
    return send(req, target, {
      ...user,
      onResponse: (res) => {
        if (res.status >= 200) exchange.res = res;
        user.onResponse(res);
      },
    });
  };
  const contactFor = (inc: IncomingRequest): string => {
    const uri = parseUri(inc.message.uri);
    const user = uri ? uriUser(uri) : undefined;
    const params = inc.flow.transport === 'udp' ? '' : `;transport=${inc.flow.transport}`;
    return `<sip:${user ? `${user}@` : ''}127.0.0.1:${inc.flow.localPort}${params}>`;
  };
  const core = new UserAgentCore(stack, {
    logger,
    timers: (reliable) => timerSet(timers, reliable),
    sessionExpiresS: 1800,
    contactFor,
    draining: () => false,
    drainRetryAfterS: 1,
  });
  const notifier = new MwiNotifier({
    stack,
    store: opts.store,
    logger,
    pbx: opts.targets ? [{ name: 'pbx', mwi: { targets: opts.targets }, auth: opts.pbxAuth }] : [],
    resendOnStart: opts.resendOnStart ? 'unacknowledged' : undefined,
    ratePerSecond: opts.ratePerSecond,
    retryMinMs: opts.retryMinMs ?? 200,
  });
  const subscriptions = new MwiSubscriptions({
    stack,
    store: opts.store,
    logger,
    contactFor,
    importFile: opts.importFile,
    limits: opts.limits,
    auth: opts.subscribeAuth,
    minExpiresS: opts.minExpiresS,
  });
  if (!opts.detached) core.onSubscribe = (inc) => subscriptions.handle(inc);
  await subscriptions.start();
  notifier.start();
  const bound = transport.bound();
  let stopped = false;
  const node: MwiNode = {
    notifier,
    subscriptions,
    sent,
    port: (t) => bound.find((b) => b.transport === t)!.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      notifier.stop();
      await subscriptions.stop();
      stack.close();
      await transport.close();
    },
  };
  nodes.push(node);
  return node;
}

function freePort(transport: 'udp' | 'tcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (transport === 'tcp') {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
      return;
    }
    const sock = createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const port = sock.address().port;
      sock.close(() => resolve(port));
    });
  });
}

function expectSippOk(result: Awaited<ReturnType<typeof runSipp>>, what: string): void {
  if (result.code !== 0) throw new Error(`SIPp ${what} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
}

const NOTIFY_OK = (ex: Exchange): boolean => ex.req.method === 'NOTIFY' && ex.res !== undefined && ex.res.status === 200;

describe('unsolicited NOTIFY message-summary to the PBX', () => {
  it.each<'udp' | 'tcp'>(['udp', 'tcp'])(
    'MUST send the mailbox state out of dialog to the PBX target over %s, with the mailbox as Request-URI user',
    async (transport) => {
      const store = new FakeStore();
      store.add('27000', { new: 0, saved: 1, urgentNew: 0, urgentSaved: 0 });
      // The node needs a port before SIPp, which only needs to know its own.
      const probe = await freePort(transport === 'udp' ? 'udp' : 'tcp');
      const node = await startNode({ store, targets: [`sip:127.0.0.1:${probe}${transport === 'tcp' ? ';transport=tcp' : ''}`] });
      const run = runSipp({ scenario: 'uas-mwi.xml', transport, port: node.port(transport), timeoutS: 20, extra: ['-p', String(probe)] });
      await new Promise((resolve) => setTimeout(resolve, 300)); // SIPp binds its port
      store.set('27000', TWO_NEW);
      expectSippOk(await run, 'uas-mwi.xml');
      await waitFor(() => node.notifier.stats().pending === 0, 'the delivery to end');
    },
  );

  it('MUST try the next target when the first one answers 503', async () => {
    const store = new FakeStore();
    store.add('27000', TWO_NEW);
    const first = await freePort('udp');
    const second = await freePort('udp');
    const node = await startNode({ store, targets: [`sip:127.0.0.1:${first}`, `sip:127.0.0.1:${second}`] });
    const down = runSipp({ scenario: 'uas-mwi-503.xml', transport: 'udp', port: node.port('udp'), timeoutS: 20, extra: ['-p', String(first)] });
    const up = runSipp({ scenario: 'uas-mwi.xml', transport: 'udp', port: node.port('udp'), timeoutS: 20, extra: ['-p', String(second)] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    store.set('27000', TWO_NEW);
    expectSippOk(await down, 'uas-mwi-503.xml');
    expectSippOk(await up, 'uas-mwi.xml');
    await waitFor(() => node.notifier.stats().pending === 0, 'the delivery to end');
    expect(node.sent.filter((e) => e.req.method === 'NOTIFY').map((e) => e.res?.status)).toEqual([503, 200]);
  });

  it("MUST answer the PBX's digest challenge with the credentials configured for it", async () => {
    const store = new FakeStore();
    store.add('27000', TWO_NEW);
    const port = await freePort('udp');
    const node = await startNode({ store, targets: [`sip:127.0.0.1:${port}`], pbxAuth: { username: 'vmpilot', password: 'secret' } });
    const run = runSipp({ scenario: 'uas-mwi-auth.xml', transport: 'udp', port: node.port('udp'), timeoutS: 20, extra: ['-p', String(port)] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    store.set('27000', TWO_NEW);
    expectSippOk(await run, 'uas-mwi-auth.xml');
    await waitFor(() => node.notifier.stats().pending === 0, 'the delivery to end');
  });

  it('MUST send every mailbox state at start-up when resendOnStart is set, paced to the configured rate', async () => {
    const peer = await RawUdpPeer.open();
    peers.push(peer);
    answerNotifies(peer, () => 200);
    const store = new FakeStore();
    const boxes = ['27001', '27002', '27003', '27004', '27005', '27006'];
    boxes.forEach((b, i) => store.add(b, { new: i, saved: 1, urgentNew: 0, urgentSaved: 0 }));
    // 4 per second: four at once (one second's burst), then one every 250 ms.
    await startNode({ store, targets: [`sip:127.0.0.1:${peer.port}`], resendOnStart: true, ratePerSecond: 4 });
    await waitFor(() => notifies(peer).length === boxes.length, 'a NOTIFY for every mailbox', 5000);
    const got = notifies(peer);
    const byBox = new Map(got.map((r) => [/^NOTIFY sip:(\d+)@/.exec(r.text)?.[1], parseMessageSummary(bodyOf(r.text))]));
    boxes.forEach((b, i) => expect(byBox.get(b)?.voice).toEqual({ new: i, saved: 1, urgentNew: 0, urgentSaved: 0 }));
    expect(got[got.length - 1]!.at - got[0]!.at).toBeGreaterThanOrEqual(400);
  });

  it('a new sender on the same store (a new leader) MUST send only the states the PBX has not acknowledged with a 2xx', async () => {
    const peer = await RawUdpPeer.open();
    peers.push(peer);
    // The PBX refuses 27003 (404): a refusal is no acknowledgement.
    let refuseNext = false;
    answerNotifies(peer, () => (refuseNext ? 404 : 200));
    const store = new FakeStore();
    const boxes = ['27001', '27002', '27003', '27004', '27005', '27006'];
    boxes.forEach((b, i) => store.add(b, { new: i, saved: 1, urgentNew: 0, urgentSaved: 0 }));
    const target = `sip:127.0.0.1:${peer.port}`;
    const first = await startNode({ store, targets: [target], resendOnStart: true, ratePerSecond: 100 });
    await waitFor(() => notifies(peer).length === boxes.length, 'a NOTIFY for every mailbox', 5000);
    await waitFor(() => first.notifier.stats().pending === 0, 'every delivery to end');
    // The PBX refuses a resend of 27003 (answered while refuseNext is set: the only NOTIFY then).
    refuseNext = true;
    await first.notifier.resend('27003');
    await waitFor(() => first.notifier.stats().pending === 0 && notifies(peer).length === boxes.length + 1, 'the refused resend');
    refuseNext = false;
    await first.stop();
    // While no one sends: 27005 changes.
    store.set('27005', { new: 9, saved: 0, urgentNew: 0, urgentSaved: 0 });

    const mark = notifies(peer).length;
    const second = await startNode({ store, targets: [target], resendOnStart: true, ratePerSecond: 100 });
    await waitFor(() => notifies(peer).length >= mark + 2, 'the changed and the refused mailbox', 5000);
    await waitFor(() => second.notifier.stats().pending === 0, 'the deliveries to end');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = notifies(peer).slice(mark).map((r) => [/^NOTIFY sip:(\d+)@/.exec(r.text)?.[1], parseMessageSummary(bodyOf(r.text))?.voice?.new]);
    expect(sent.sort()).toEqual([
      ['27003', 2],
      ['27005', 9],
    ]);

    // A full resend sends every mailbox again, acknowledged or not.
    const full = notifies(peer).length;
    expect(await second.notifier.resendAll('all')).toBe(boxes.length);
    await waitFor(() => notifies(peer).length === full + boxes.length, 'a NOTIFY for every mailbox', 5000);
  });

  it('a new sender MUST put out the lamp of a mailbox gone while no one sent, once', async () => {
    const peer = await RawUdpPeer.open();
    peers.push(peer);
    answerNotifies(peer, () => 200);
    const store = new FakeStore();
    store.add('27001', TWO_NEW);
    store.add('27002', { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 });
    const target = `sip:127.0.0.1:${peer.port}`;
    const sender = () => startNode({ store, targets: [target], resendOnStart: true, ratePerSecond: 100 });
    const first = await sender();
    await waitFor(() => notifies(peer).length === 2 && first.notifier.stats().pending === 0, 'both lamps delivered', 5000);
    await first.stop();
    store.remove('27001');

    const mark = notifies(peer).length;
    const second = await sender();
    await waitFor(() => notifies(peer).length > mark && second.notifier.stats().pending === 0, 'the lamp put out', 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = notifies(peer).slice(mark).map((r) => [/^NOTIFY sip:(\d+)@/.exec(r.text)?.[1], parseMessageSummary(bodyOf(r.text))?.waiting]);
    expect(sent).toEqual([['27001', false]]);
    await second.stop();

    // Acknowledged off: the next sender has nothing to say.
    const third = notifies(peer).length;
    await sender();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(notifies(peer).length).toBe(third);
  });

  it('MUST retry the delivery later when every target failed, until a target answers 2xx', async () => {
    const peer = await RawUdpPeer.open();
    peers.push(peer);
    let n = 0;
    answerNotifies(peer, () => (++n === 1 ? 500 : 200));
    const store = new FakeStore();
    store.add('27000', TWO_NEW);
    const node = await startNode({ store, targets: [`sip:127.0.0.1:${peer.port}`], retryMinMs: 300 });
    store.set('27000', TWO_NEW);
    await waitFor(() => notifies(peer).length === 2, 'the retry', 5000);
    const [a, b] = notifies(peer);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(280);
    expect(bodyOf(b!.text)).toBe(bodyOf(a!.text));
    await waitFor(() => node.notifier.stats().pending === 0, 'the delivery to end');
  });
});

describe('SUBSCRIBE to message-summary (RFC 6665)', () => {
  it.each<'udp' | 'tcp'>(['udp', 'tcp'])(
    'MUST answer 200, NOTIFY at once and on every change, refresh, and end with a terminated NOTIFY on unsubscribe (%s)',
    async (transport) => {
      const store = new FakeStore();
      store.add('27000', TWO_NEW);
      const node = await startNode({ store });
      const run = runSipp({ scenario: 'uac-subscribe-mwi.xml', transport, port: node.port(transport), service: '27000', timeoutS: 20 });
      await waitFor(() => node.sent.some(NOTIFY_OK), 'the first NOTIFY to be answered', 10_000);
      store.set('27000', NONE_NEW);
      expectSippOk(await run, 'uac-subscribe-mwi.xml');
      await waitFor(() => node.subscriptions.size === 0, 'the subscription to be gone');
    },
  );

  it('MUST challenge a new SUBSCRIBE when subscribeAuth is set, and accept valid credentials', async () => {
    const store = new FakeStore();
    store.add('27000', TWO_NEW);
    const node = await startNode({ store, subscribeAuth: { realm: 'vm.example', username: 'phone', password: 'secret' } });
    const result = await runSipp({ scenario: 'uac-subscribe-auth.xml', transport: 'udp', port: node.port('udp'), service: '27000', timeoutS: 20 });
    expectSippOk(result, 'uac-subscribe-auth.xml');
    expect(node.subscriptions.size).toBe(1);
  });

  it('lists SUBSCRIBE in Allow once a subscription layer is attached; without one, SUBSCRIBE gets 405 as before', async () => {
    const { sub, node } = await subscriberFor();
    const options = (port: number) =>
      [
        `OPTIONS sip:27000@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${sub.peer.port};branch=z9hG4bKopt${port};rport`,
        'From: <sip:pbx@127.0.0.1>;tag=o1',
        'To: <sip:27000@127.0.0.1>',
        `Call-ID: opt-${port}`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    await sub.peer.send(node.port('udp'), options(node.port('udp')));
    const ok = await sub.peer.waitFor((t) => t.startsWith('SIP/2.0 200') && t.includes(`opt-${node.port('udp')}`));
    expect(headerOf(ok.text, 'allow')).toMatch(/(^|, )SUBSCRIBE(,|$)/);

    const store = new FakeStore();
    store.add('27000', TWO_NEW);
    const bare = await startNode({ store, detached: true });
    const plain = new Subscriber(sub.peer, bare.port('udp'));
    const res = await plain.subscribe('27000');
    expect(statusOf(res)).toBe(405);
    expect(headerOf(res, 'allow')).not.toMatch(/SUBSCRIBE/);
  });

  it('answers 489 Bad Event with Allow-Events for an event package other than message-summary', async () => {
    const { sub } = await subscriberFor();
    const res = await sub.subscribe('27000', { event: 'presence' });
    expect(statusOf(res)).toBe(489);
    expect(headerOf(res, 'allow-events')).toBe('message-summary');
  });

  it('answers a number with no mailbox exactly as a mailbox with no messages (no mailbox is revealed)', async () => {
    const { sub, store, node } = await subscriberFor();
    store.add('27002', { new: 0, saved: 0, urgentNew: 0, urgentSaved: 0 });
    const seen = async (user: string) => {
      const from = sub.peer.received.length;
      const res = await sub.subscribe(user);
      const notify = await sub.peer.waitFor((t) => t.startsWith('NOTIFY ') && t.includes(`sip:${user}@`), 3000, from);
      // What may differ: the number itself, and the dialog's tags and sequence numbers.
      const same = (t: string) => t.replaceAll(user, 'N').replace(/tag=[^;\s>]+/g, 'tag=T').replace(/branch=[^;\s]+/g, 'branch=B');
      // The seconds left in Subscription-State are a clock reading (whole seconds, rounded down when the
      // NOTIFY leaves): a millisecond boundary between the two may make them differ by one.
      const state = headerOf(notify.text, 'subscription-state') ?? '';
      const left = Number(/expires=(\d+)/.exec(state)?.[1]);
      expect(left).toBeGreaterThanOrEqual(3598);
      return {
        status: statusOf(res),
        headers: ['expires', 'contact'].map((h) => same(headerOf(res, h) ?? '')),
        state: state.replace(/expires=\d+/, 'expires=S'),
        body: same(bodyOf(notify.text)),
      };
    };
    const present = await seen('27002');
    expect(present.status).toBe(200);
    expect(present.body).toMatch(/Messages-Waiting: no/);
    expect(await seen('99999')).toEqual(present);
    expect(node.subscriptions.list('99999')).toHaveLength(1);
  });

  it('answers 404 to a Request-URI with no number in it (no mailbox could have it)', async () => {
    const { sub } = await subscriberFor();
    expect(statusOf(await sub.subscribe('alice'))).toBe(404);
  });

  it('answers 423 Interval Too Brief with Min-Expires for an Expires below the minimum', async () => {
    const { sub } = await subscriberFor();
    const res = await sub.subscribe('27000', { expires: 10 });
    expect(statusOf(res)).toBe(423);
    expect(headerOf(res, 'min-expires')).toBe('60');
  });

  it('answers 481 to a refresh for a subscription it does not have', async () => {
    const { sub } = await subscriberFor();
    expect(statusOf(await sub.subscribe('27000', { toTag: 'nosuchtag' }))).toBe(481);
  });

  it("MUST accept a subscription to an alias with the mailbox's state, Message-Account as subscribed", async () => {
    const { sub, node } = await subscriberFor();
    const res = await sub.subscribe('4627000');
    expect(statusOf(res)).toBe(200);
    const notify = await sub.peer.waitFor((t) => t.startsWith('NOTIFY '));
    // The alias, not the mailbox's own number: that would tell an unauthenticated subscriber the alias is real.
    expect(parseMessageSummary(bodyOf(notify.text))).toMatchObject({ account: 'sip:4627000@127.0.0.1', voice: TWO_NEW });
    expect(node.subscriptions.list('27000')).toHaveLength(1);
  });

  it('MUST end an expired subscription with NOTIFY terminated;reason=timeout', async () => {
    const { sub, node } = await subscriberFor({ minExpiresS: 1 });
    expect(headerOf(await sub.subscribe('27000', { expires: 1 }), 'expires')).toBe('1');
    const final = await sub.peer.waitFor((t) => t.startsWith('NOTIFY ') && /terminated;reason=timeout/.test(t), 4000);
    expect(parseMessageSummary(bodyOf(final.text))?.waiting).toBe(true);
    await waitFor(() => node.subscriptions.size === 0, 'the subscription to be gone');
  });

  it('MUST remove the subscription when a NOTIFY is answered 481', async () => {
    const { sub, node, store } = await subscriberFor();
    await sub.subscribe('27000');
    await waitFor(() => node.sent.some(NOTIFY_OK), 'the first NOTIFY');
    sub.status = 481;
    store.set('27000', NONE_NEW);
    await waitFor(() => node.subscriptions.size === 0, 'the subscription to be removed');
  });

  it('MUST resume a subscription after a restart with a NOTIFY of the current state and a higher CSeq', async () => {
    const { sub, node, store } = await subscriberFor();
    await sub.subscribe('27000');
    const first = await sub.peer.waitFor((t) => t.startsWith('NOTIFY '));
    await waitFor(() => node.sent.some(NOTIFY_OK), 'the first NOTIFY to be answered');
    await node.stop();
    expect(store.subscriptionRows.size).toBe(1);
    store.set('27000', NONE_NEW); // changed while we were down
    const from = sub.peer.received.length;
    const again = await startNode({ store });
    const resumed = await sub.peer.waitFor((t) => t.startsWith('NOTIFY '), 3000, from);
    expect(headerOf(resumed.text, 'call-id')).toBe(headerOf(first.text, 'call-id'));
    expect(headerOf(resumed.text, 'to')).toBe(headerOf(first.text, 'to'));
    expect(cseqOf(resumed.text)).toBeGreaterThan(cseqOf(first.text));
    expect(parseMessageSummary(bodyOf(resumed.text))?.voice).toEqual(NONE_NEW);
    expect(again.subscriptions.size).toBe(1);
  });

  it('imports the subscriptions file of an earlier version once into the store, and resumes them', async () => {
    const { sub, node, store } = await subscriberFor();
    await sub.subscribe('27000');
    await waitFor(() => node.sent.some(NOTIFY_OK), 'the first NOTIFY to be answered');
    await node.stop();
    // The file an earlier version wrote, and a store that has never seen the subscription.
    const file = join(mkdtempSync(join(tmpdir(), 'vmpilot-mwi-')), 'subscriptions.json');
    const records = [...store.subscriptionRows.values()].map((r) => JSON.parse(r.data) as unknown);
    writeFileSync(file, JSON.stringify({ version: 1, subscriptions: records }));
    store.subscriptionRows.clear();
    const from = sub.peer.received.length;
    const again = await startNode({ store, importFile: file });
    await sub.peer.waitFor((t) => t.startsWith('NOTIFY '), 3000, from);
    expect(again.subscriptions.size).toBe(1);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.imported`)).toBe(true);
    await waitFor(() => store.subscriptionRows.size === 1, 'the imported subscription to be in the store');
  });

  it('refuses a subscription over the per-mailbox limit with 403, a number with no mailbox alike', async () => {
    const { sub } = await subscriberFor({ limits: { maxPerMailbox: 2 } });
    for (const user of ['27000', '99999']) {
      for (let i = 0; i < 2; i++) expect(statusOf(await sub.subscribe(user))).toBe(200);
      expect((await sub.subscribe(user)).split('\r\n')[0]).toBe('SIP/2.0 403 Too Many Subscriptions For This Mailbox');
    }
    // Another mailbox is not full.
    expect(statusOf(await sub.subscribe('27001'))).toBe(200);
  });

  it('refuses a subscription over the per-source limit with 403; another source may still subscribe', async () => {
    const { sub, node } = await subscriberFor({ limits: { maxPerSource: 3 } });
    for (const user of ['27000', '27001', '27002']) expect(statusOf(await sub.subscribe(user))).toBe(200);
    expect((await sub.subscribe('27003')).split('\r\n')[0]).toBe('SIP/2.0 403 Too Many Subscriptions From This Source');
    const other = await RawUdpPeer.open('127.0.0.2');
    peers.push(other);
    expect(statusOf(await new Subscriber(other, node.port('udp')).subscribe('27003'))).toBe(200);
  });

  it('refuses a subscription over the total limit with 503 and Retry-After; a fetch (Expires: 0) still works', async () => {
    const { sub } = await subscriberFor({ limits: { maxTotal: 2 } });
    for (const user of ['27000', '27001']) expect(statusOf(await sub.subscribe(user))).toBe(200);
    const full = await sub.subscribe('27002');
    expect(full.split('\r\n')[0]).toBe('SIP/2.0 503 Subscription Table Full');
    expect(Number(headerOf(full, 'retry-after'))).toBeGreaterThan(0);
    expect(statusOf(await sub.subscribe('27002', { expires: 0 }))).toBe(200);
  });

  it('keeps each subscription in its own row: a refresh writes that row only, not the others', async () => {
    const { sub, node, store } = await subscriberFor({ limits: { maxPerMailbox: 100 } });
    const tags: string[] = [];
    for (let i = 0; i < 20; i++) tags.push(/tag=([^;\s>]+)/.exec(headerOf(await sub.subscribe('27000'), 'to') ?? '')![1]!);
    await waitFor(() => node.sent.filter(NOTIFY_OK).length === 20, 'every first NOTIFY answered');
    await node.subscriptions.flushed();
    expect(store.subscriptionRows.size).toBe(20);
    const before = store.rowsWritten.length;
    expect(statusOf(await sub.subscribe('27000', { toTag: tags[7] }))).toBe(200);
    await waitFor(() => node.sent.filter(NOTIFY_OK).length === 21, 'the NOTIFY after the refresh answered');
    await node.subscriptions.flushed();
    const written = new Set(store.rowsWritten.slice(before));
    expect(written.size).toBe(1);
    expect(store.subscriptionRows.get([...written][0]!)?.data).toContain(tags[7]);
  });
});

// ------------------------------------------------------------------------------------------------ helpers

function notifies(peer: RawUdpPeer) {
  return peer.received.filter((r) => r.text.startsWith('NOTIFY '));
}

/** Answers every NOTIFY the peer receives with the status `statusFor` gives. */
function answerNotifies(peer: RawUdpPeer, statusFor: () => number): void {
  let seen = 0;
  const timer = setInterval(() => {
    for (const r of peer.received.slice(seen)) {
      if (r.text.startsWith('NOTIFY ')) void peer.send(viaPort(r.text), answer(r.text, statusFor()));
    }
    seen = peer.received.length;
  }, 5);
  const close = peer.close.bind(peer);
  peer.close = () => {
    clearInterval(timer);
    close();
  };
}

function answer(request: string, status: number): string {
  const lines = request.split('\r\n');
  const pick = (name: string): string[] => lines.filter((l) => l.toLowerCase().startsWith(`${name}:`));
  const to = pick('to').map((l) => (/;tag=/.test(l) ? l : `${l};tag=peer`));
  return [`SIP/2.0 ${status} X`, ...pick('via'), ...pick('from'), ...to, ...pick('call-id'), ...pick('cseq'), 'Content-Length: 0', '', ''].join('\r\n');
}

/** The port our top Via names (rport answers go back to the sending socket). */
function viaPort(request: string): number {
  return Number(/^Via: SIP\/2\.0\/UDP [^:]+:(\d+)/im.exec(request)?.[1]);
}

function bodyOf(text: string): string {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? '' : text.slice(i + 4);
}

function headerOf(text: string, name: string): string | undefined {
  const head = text.split('\r\n\r\n')[0]!;
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

function statusOf(text: string): number {
  return Number(text.slice(8, 11));
}

function cseqOf(text: string): number {
  return Number(/^(\d+)/.exec(headerOf(text, 'cseq') ?? '')?.[1]);
}

/** A phone on a raw UDP socket: sends SUBSCRIBE and answers the NOTIFYs it gets with `status`. */
class Subscriber {
  status = 200;
  private cseq = 0;
  private readonly callId = `sub-${Math.random().toString(16).slice(2)}`;

  constructor(
    readonly peer: RawUdpPeer,
    private readonly serverPort: number,
  ) {
    answerNotifies(peer, () => this.status);
  }

  async subscribe(user: string, opts: { event?: string; expires?: number; toTag?: string } = {}): Promise<string> {
    const cseq = ++this.cseq;
    const from = this.peer.received.length;
    const text = [
      `SUBSCRIBE sip:${user}@127.0.0.1:${this.serverPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.peer.port};branch=z9hG4bK${this.callId}${cseq};rport`,
      `From: <sip:phone@127.0.0.1>;tag=ph${this.callId}`,
      `To: <sip:${user}@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} SUBSCRIBE`,
      `Contact: <sip:phone@127.0.0.1:${this.peer.port}>`,
      'Max-Forwards: 70',
      `Event: ${opts.event ?? 'message-summary'}`,
      `Expires: ${opts.expires ?? 3600}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await this.peer.send(this.serverPort, text);
    const res = await this.peer.waitFor((t) => t.startsWith('SIP/2.0 ') && !t.startsWith('SIP/2.0 100') && new RegExp(`CSeq: ${cseq} SUBSCRIBE`, 'i').test(t), 3000, from);
    return res.text;
  }
}

async function subscriberFor(opts: { minExpiresS?: number; limits?: NodeOptions['limits'] } = {}) {
  const store = new FakeStore();
  store.add('27000', TWO_NEW, ['4627000']);
  for (const n of ['27001', '27002', '27003']) store.add(n, NONE_NEW);
  const node = await startNode({ store, ...opts });
  const peer = await RawUdpPeer.open();
  peers.push(peer);
  return { node, store, sub: new Subscriber(peer, node.port('udp')) };
}
