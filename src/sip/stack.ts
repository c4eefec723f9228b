/**
 * The SIP stack: transport frames in, parsed and matched to transactions, new requests handed to the
 * transaction user (TU); requests out through client transactions. RFC 3261 §17 (matching), §18 (Via
 * received/rport and response routing), RFC 3581.
 *
 * The stack does not know about dialogs, calls or voicemail: the TU (the SIP core in ua-core.ts) does. What it
 * does decide is who may talk at all: requests from untrusted sources (strangers) get 403 or silence, and a
 * source over its rate is throttled. Responses are never throttled: they answer our own requests (a PBX's
 * 200 to our NOTIFY), and one that matches no transaction costs a parse and a Map look-up.
 */
import type { Logger } from 'pino';
import { Headers, createRequest, type SipRequest, type SipResponse } from './message.js';
import { parseMessage } from './parse.js';
import { serializeMessage } from './serialize.js';
import { formatVia, parseVia, type Via } from './headers/via.js';
import { parseCSeq } from './headers/cseq.js';
import { buildResponse, hasTag, tagOf } from './response.js';
import { newBranch, newTag } from './ids.js';
import { IncomingRequest } from './incoming-request.js';
import { StrangerLog } from './stranger-log.js';
import type { SourceKeys } from './source-key.js';
import type { Flow, InboundFrame, SendTarget, TransportName } from './transport/types.js';
import type { TransportLayer } from './transport/transport-layer.js';
import { timerSet, type TimerBase, type TimerSet } from './transaction/timers.js';
import { clientKey, inviteKeyForCancel, serverKey } from './transaction/transaction-key.js';
import { InviteServerTransaction } from './transaction/invite-server-transaction.js';
import { NonInviteServerTransaction } from './transaction/non-invite-server-transaction.js';
import { InviteClientTransaction } from './transaction/invite-client-transaction.js';
import { NonInviteClientTransaction } from './transaction/non-invite-client-transaction.js';
import type { ClientTransactionUser } from './transaction/client-transaction-user.js';
import { SipTraffic } from './traffic.js';


/**
 * The longest message a stranger's is parsed at all (bytes). A stranger's request is only ever answered 403:
 * an INVITE with a generous SDP is 2-4 KB; anything longer is dropped unparsed (and noted in the strangers' log).
 */
export const STRANGER_MAX_BYTES = 8192;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/** The layer above the stack. */
export interface TransactionUser {
  /** A new request (not a retransmission, not an ACK). Its server transaction exists; respond through it. */
  onRequest(req: IncomingRequest): void;
  /** An ACK that no server transaction absorbed: the ACK for a 2xx, which belongs to a dialog. */
  onAck(ack: IncomingRequest): void;
  /** A CANCEL matched this INVITE; the stack has already answered the CANCEL with 200 (§9.2). */
  onCancel(invite: IncomingRequest): void;
  /** A 2xx to an INVITE with no client transaction left (a retransmission after Timer M): resend the ACK. */
  onStray2xx?(res: SipResponse): void;
}

/**
 * What a stranger's request gets: `reject` answers 403 (the sender learns it is not configured as a PBX), `ignore`
 * answers nothing (a scanner cannot tell a SIP server is here).
 */
export type StrangerPolicy = 'reject' | 'ignore';

export interface StackOptions {
  logger: Logger;
  timers: TimerBase;
  /** Server and User-Agent header value. */
  userAgent: string;
  /** Whether a source address may send us requests (responses are matched to our own transactions anyway). */
  isTrusted(address: string): boolean;
  /**
   * Per-source admission of a request (never asked about responses), told whether the source is trusted. False:
   * over UDP the request is dropped before parsing; over TCP/TLS, where the peer does not retransmit, it is
   * answered 503 with Retry-After (RFC 3261 §21.5.4) unless it comes from a stranger we ignore.
   */
  admit(address: string, trusted: boolean): boolean;
  /** What a source is for the strangers' log (IPv6 per network prefix). Default: each address. */
  sourceKeys?: SourceKeys;
  /** What strangers' requests get. Default 'reject'. */
  strangers?: StrangerPolicy;
  /**
   * Sources whose out-of-dialog OPTIONS is answered although they are not trusted: health checks on this host
   * (`vmpilot ping`, Docker HEALTHCHECK, systemd) once `pbx` no longer trusts loopback. Everything else they send
   * is treated as a stranger's.
   */
  isHealthProbe?(address: string): boolean;
  /** Retry-After (s) on the 503 for a request over its source's rate. Default 1. */
  throttleRetryAfterS?: number;
  /** Host written in our Via and Contact instead of the local socket address. */
  advertise?: string;
}

const RELIABLE = new Set(['tcp', 'tls']);

/** True when a frame is a response: its start line (after any CRLFs, §7.5) begins "SIP/" (not a token). */
function isResponseFrame(data: Buffer): boolean {
  let i = 0;
  while (i < data.length && (data[i] === 13 || data[i] === 10)) i++;
  return data.length - i >= 4 && data[i] === 0x53 && data[i + 1] === 0x49 && data[i + 2] === 0x50 && data[i + 3] === 0x2f;
}

export class SipStack {
  tu: TransactionUser | undefined;
  /** Messages in and out by method and status, and retransmissions (traffic.ts; read by /metrics). */
  readonly traffic = new SipTraffic();
  /**
   * Live server transactions. They linger for 64*T1 after their final response (Timers J and L), so at
   * hundreds of calls per second there are tens of thousands: they keep only what retransmissions need.
   */
  private readonly serverTxs = new Map<string, InviteServerTransaction | NonInviteServerTransaction>();
  /** INVITEs without a final response yet, for CANCEL (§9.2). */
  private readonly pendingInvites = new Map<string, IncomingRequest>();
  private readonly clientTxs = new Map<string, ClientTransaction>();
  /** §8.2.2.2 merged-request detection: From tag + Call-ID + CSeq of live tag-less requests → their key. */
  private readonly pendingByOrigin = new Map<string, string>();
  private readonly timersUnreliable: TimerSet;
  private readonly timersReliable: TimerSet;
  private readonly log: Logger;
  private readonly strangerLog: StrangerLog;

  constructor(
    readonly transport: TransportLayer,
    private readonly opts: StackOptions,
  ) {
    this.log = opts.logger;
    const keys = opts.sourceKeys;
    this.strangerLog = new StrangerLog(opts.logger, keys && { keyOf: (address) => keys.keyOf(address) });
    this.timersUnreliable = timerSet(opts.timers, false);
    this.timersReliable = timerSet(opts.timers, true);
    transport.onFrame = (frame) => this.receive(frame);
  }

  /** Counts for metrics and leak tests. */
  stats(): { serverTransactions: number; clientTransactions: number } {
    return { serverTransactions: this.serverTxs.size, clientTransactions: this.clientTxs.size };
  }

  // ---------------------------------------------------------------------------------------------- inbound

  private receive(frame: InboundFrame): void {
    try {
      this.receiveUnsafe(frame);
    } catch (err) {
      // The server never dies from what arrives on the wire; a bug here costs one message, not the process.
      this.log.error({ err, remote: `${frame.flow.remoteAddress}:${frame.flow.remotePort}` }, 'message handling failed');
    }
  }

  private receiveUnsafe(frame: InboundFrame): void {
    const { flow } = frame;
    const trusted = this.opts.isTrusted(flow.remoteAddress);
    // All a stranger can get is a 403 (or nothing): a message longer than any request needs for that is not even
    // parsed (parsing 64 KB of pathological text is work a flood of spoofed sources would make us do for free).
    if (!trusted && frame.data.length > STRANGER_MAX_BYTES) {
      this.strangerLog.note(flow.remoteAddress, 'none (too large)', { transport: flow.transport, bytes: frame.data.length });
      return;
    }
    if (isResponseFrame(frame.data)) {
      const outcome = parseMessage(frame.data);
      if (outcome.ok && outcome.message.kind === 'response') this.receiveResponse(outcome.message);
      else this.discardMalformed(flow, trusted, outcome.ok ? 'not a response' : outcome.reason);
      return;
    }
    const strangers = this.opts.strangers ?? 'reject';
    const probe = !trusted && (this.opts.isHealthProbe?.(flow.remoteAddress) ?? false);
    if (!trusted && !probe && strangers === 'ignore') {
      // Not even parsed: silence costs nothing, and a scanner learns nothing.
      this.strangerLog.note(flow.remoteAddress, 'none', { transport: flow.transport });
      return;
    }
    const admitted = this.opts.admit(flow.remoteAddress, trusted);
    // Over UDP a refused request is dropped unparsed (the sender retransmits, and a flood costs us nothing);
    // over TCP/TLS nothing retransmits it, so it is answered 503 below.
    if (!admitted && !RELIABLE.has(flow.transport)) {
      if (!trusted) this.strangerLog.note(flow.remoteAddress, 'none (over its rate)', { transport: flow.transport });
      return;
    }
    const outcome = parseMessage(frame.data);
    const req = outcome.ok ? outcome.message : outcome.request;
    if (req?.kind !== 'request') {
      this.discardMalformed(flow, trusted, outcome.ok ? 'not a request' : outcome.reason);
      return;
    }
    if (!admitted) {
      if (req.method !== 'ACK') this.respondStateless(req, flow, 503, 'Service Unavailable', { 'retry-after': String(this.opts.throttleRetryAfterS ?? 1) });
      if (!trusted) this.strangerLog.note(flow.remoteAddress, '503 (over its rate)', { transport: flow.transport });
      return;
    }
    if (probe && outcome.ok && isHealthCheck(req)) {
      this.receiveRequest(req, flow);
      return;
    }
    if (!trusted) {
      if (strangers === 'ignore') return; // a local prober's other requests: as silent as any stranger's
      // A stranger's request, well-formed or not, gets 403 and nothing else: no transaction, no parser detail.
      this.strangerLog.note(flow.remoteAddress, '403', { transport: flow.transport, method: req.method, callId: req.headers.get('call-id') });
      if (req.method !== 'ACK') this.respondStateless(req, flow, 403, 'Forbidden');
      return;
    }
    if (!outcome.ok) {
      this.log.info(
        { callId: req.headers.get('call-id'), remote: `${flow.remoteAddress}:${flow.remotePort}`, transport: flow.transport, reason: outcome.reason },
        'malformed request answered',
      );
      if (req.method !== 'ACK') this.respondStateless(req, flow, outcome.status, outcome.reason);
      return;
    }
    this.receiveRequest(req, flow);
  }

  /**
   * A message that is not one: logged for a trusted peer (its PBX's engineer wants each), and for a stranger
   * only in the rate-limited strangers' log (a line per datagram would let a garbage flood fill the disk).
   */
  private discardMalformed(flow: Flow, trusted: boolean, reason: string): void {
    if (trusted) this.log.info({ remote: `${flow.remoteAddress}:${flow.remotePort}`, transport: flow.transport, reason }, 'discarded malformed message');
    else this.strangerLog.note(flow.remoteAddress, 'none (malformed)', { transport: flow.transport, reason });
  }

  /** A well-formed request from a trusted source, within its rate. */
  private receiveRequest(req: SipRequest, flow: Flow): void {
    const via = parseVia(req.headers.getAll('via')[0] ?? '');
    const cseq = parseCSeq(req.headers.get('cseq') ?? '');
    if (!via || !cseq) return; // parse.ts guarantees both; belt and braces for the packet path
    this.stampVia(req, via, flow);

    const key = serverKey(req, via, req.method === 'ACK' ? 'ACK' : cseq.method);
    const existing = this.serverTxs.get(key);
    this.traffic.request('in', req.method);
    if (req.method === 'ACK') {
      if (existing instanceof InviteServerTransaction && existing.receiveAck()) return;
      this.tu?.onAck(new IncomingRequest(req, flow, via, undefined, (r) => this.decorate(r)));
      return;
    }
    if (existing) {
      this.traffic.retransmitted('in');
      if (existing instanceof InviteServerTransaction) existing.receiveInvite();
      else existing.receiveRequest();
      return;
    }
    const inc = this.createServerTransaction(req, flow, via, key);
    if (req.method === 'INVITE') {
      // §17.2.1: send 100 Trying at once; the TU may take longer than 200 ms (store look-ups, media setup).
      inc.respond(100);
    }
    if (req.method === 'CANCEL') {
      this.receiveCancel(inc);
      return;
    }
    this.tu?.onRequest(inc);
  }

  /** §9.2: CANCEL gets 200 when it matches a pending INVITE (the TU then ends the INVITE with 487), else 481. */
  private receiveCancel(cancel: IncomingRequest): void {
    const invite = this.pendingInvites.get(inviteKeyForCancel(cancel.message, cancel.via));
    if (!invite) {
      // No INVITE, or it already has its final response: "the CANCEL has no effect" (§9.2) — 481 for an
      // unknown one; a late CANCEL still gets 200 as the transaction exists.
      const late = this.serverTxs.has(inviteKeyForCancel(cancel.message, cancel.via));
      cancel.respond(late ? 200 : 481);
      return;
    }
    // The CANCEL's To tag must equal the one we use for the INVITE's responses (§9.2).
    cancel.useToTag(invite.toTag);
    cancel.respond(200);
    this.tu?.onCancel(invite);
  }

  private createServerTransaction(req: SipRequest, flow: Flow, via: Via, key: string): IncomingRequest {
    const reliable = RELIABLE.has(flow.transport);
    const timers = reliable ? this.timersReliable : this.timersUnreliable;
    const send = this.responseSender(via, flow);
    const originKey = this.originKey(req);
    const onTerminated = (): void => {
      this.serverTxs.delete(key);
      this.pendingInvites.delete(key);
      if (originKey !== undefined && this.pendingByOrigin.get(originKey) === key) this.pendingByOrigin.delete(originKey);
    };
    const onFinal = (): void => {
      this.pendingInvites.delete(key);
    };
    const tx =
      req.method === 'INVITE'
        ? new InviteServerTransaction(key, send, timers, reliable, { onTerminated, onFinal })
        : new NonInviteServerTransaction(key, send, timers, onTerminated);
    const inc = new IncomingRequest(req, flow, via, tx, (r) => this.decorate(r));
    this.serverTxs.set(key, tx);
    if (req.method === 'INVITE') this.pendingInvites.set(key, inc);
    if (originKey !== undefined && !this.pendingByOrigin.has(originKey)) this.pendingByOrigin.set(originKey, key);
    return inc;
  }

  /**
   * §8.2.2.2: a tag-less request whose From tag, Call-ID and CSeq equal those of a live transaction but which
   * arrived on a different branch was forked to us twice: answer 482 (Loop Detected).
   */
  isMergedRequest(inc: IncomingRequest): boolean {
    const origin = this.originKey(inc.message);
    if (origin === undefined) return false;
    const owner = this.pendingByOrigin.get(origin);
    return owner !== undefined && owner !== inc.transaction?.key;
  }

  private originKey(req: SipRequest): string | undefined {
    if (hasTag(req.headers.get('to') ?? '')) return undefined;
    const tag = tagOf(req.headers.get('from') ?? '');
    if (tag === undefined) return undefined;
    return `${tag}|${req.headers.get('call-id') ?? ''}|${req.headers.get('cseq') ?? ''}`;
  }

  private receiveResponse(res: SipResponse): void {
    const via = parseVia(res.headers.getAll('via')[0] ?? '');
    const cseq = parseCSeq(res.headers.get('cseq') ?? '');
    if (!via?.branch || !cseq) return;
    this.traffic.response('in', cseq.method, res.status);
    const tx = this.clientTxs.get(clientKey(via.branch, cseq.method));
    if (tx) {
      tx.receiveResponse(res);
      return;
    }
    if (cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) this.tu?.onStray2xx?.(res);
  }

  /**
   * §18.2.1: add `received` when the sent-by host differs from the packet's source; RFC 3581 §4: fill an empty
   * `rport` with the source port (and then `received` is added unconditionally).
   */
  private stampVia(req: SipRequest, via: Via, flow: Flow): void {
    let changed = false;
    if (via.rport === null) {
      via.rport = flow.remotePort;
      via.params.set('rport', String(flow.remotePort));
      via.received = flow.remoteAddress;
      via.params.set('received', flow.remoteAddress);
      changed = true;
    } else if (via.host !== flow.remoteAddress && via.host !== `[${flow.remoteAddress}]`) {
      via.received = flow.remoteAddress;
      via.params.set('received', flow.remoteAddress);
      changed = true;
    }
    if (changed) {
      const vias = [...req.headers.getAll('via')];
      vias[0] = formatVia(via);
      req.headers.set('via', vias);
    }
  }

  /** §18.2.2 with RFC 3581 §4: where responses to a request go. */
  private responseSender(via: Via, flow: Flow): (data: Buffer) => void {
    let target: SendTarget;
    if (RELIABLE.has(flow.transport)) {
      // Reuse the connection the request came on; if it is gone, connect to the source and the sent-by port.
      target = {
        transport: flow.transport,
        address: flow.remoteAddress,
        port: via.port ?? (flow.transport === 'tls' ? 5061 : 5060),
        connectionId: flow.connectionId,
      };
    } else {
      const port = typeof via.rport === 'number' ? flow.remotePort : (via.port ?? 5060);
      target = { transport: flow.transport, address: flow.remoteAddress, port };
    }
    return this.traffic.countingResends((data) => this.transport.send(target, data));
  }

  private respondStateless(req: SipRequest, flow: Flow, status: number, reason: string, headers?: Record<string, string>): void {
    const via = parseVia(req.headers.getAll('via')[0] ?? '');
    if (!via) return;
    this.stampVia(req, via, flow);
    const res = buildResponse(req, status, { reason, toTag: newTag(), headers });
    this.decorate(res);
    this.responseSender(via, flow)(serializeMessage(res));
  }

  /** Every response we make passes here once (IncomingRequest.respond, respondStateless): counted as sent. */
  private decorate(res: SipResponse): void {
    this.traffic.response('out', parseCSeq(res.headers.get('cseq') ?? '')?.method ?? '', res.status);
    if (!res.headers.has('server')) res.headers.set('server', this.opts.userAgent);
  }

  // --------------------------------------------------------------------------------------------- outbound

  /** Via sent-by for a request to this target: the advertised host or the local address the route uses. */
  localEndpoint(target: SendTarget): { address: string; port: number } {
    const local = this.transport.localEndpoint(target);
    return { address: this.opts.advertise ?? local.address, port: local.port };
  }

  /**
   * Sends a request (not ACK) through a new client transaction. The stack adds the top Via with a fresh branch
   * and rport; everything else is the caller's.
   */
  sendRequest(req: SipRequest, target: SendTarget, user: ClientTransactionUser): ClientTransaction {
    const branch = newBranch();
    this.pushVia(req, target, branch);
    const cseq = parseCSeq(req.headers.get('cseq') ?? '');
    return this.startClient(req, target, clientKey(branch, cseq?.method ?? req.method), user);
  }

  /**
   * §9.1: cancels an INVITE we sent (the caller has seen a provisional response for it). "The Request-URI,
   * Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL request MUST be identical to
   * those in the request being cancelled, including tags. ... A CANCEL constructed by a client MUST have only
   * a single Via header field value matching the top Via value in the request being cancelled." It goes to
   * the INVITE's target in a non-INVITE transaction of its own, which shares the INVITE's branch (§17.1.3
   * tells the two apart by method). "If the request being cancelled contains a Route header field, the
   * CANCEL request MUST include that Route header field's values."
   */
  sendCancel(invite: InviteClientTransaction, target: SendTarget, user: ClientTransactionUser): ClientTransaction | undefined {
    const inv = invite.request.headers;
    const topVia = inv.getAll('via')[0];
    const branch = parseVia(topVia ?? '')?.branch;
    const cseq = parseCSeq(inv.get('cseq') ?? '');
    if (topVia === undefined || !branch || !cseq) return undefined;
    const headers = new Headers();
    headers.set('via', topVia);
    const routes = inv.getAll('route');
    if (routes.length > 0) headers.set('route', routes);
    headers.set('max-forwards', '70');
    headers.set('from', inv.get('from') ?? '');
    headers.set('to', inv.get('to') ?? '');
    headers.set('call-id', inv.get('call-id') ?? '');
    headers.set('cseq', `${cseq.seq} CANCEL`);
    headers.set('user-agent', this.opts.userAgent);
    return this.startClient(createRequest('CANCEL', invite.request.uri, headers), target, clientKey(branch, 'CANCEL'), user);
  }

  /** The §17 timer values this stack uses for a transport (T1, T2 and 64*T1 for a TU's own retransmissions). */
  timersFor(transport: TransportName): TimerSet {
    return RELIABLE.has(transport) ? this.timersReliable : this.timersUnreliable;
  }

  private startClient(req: SipRequest, target: SendTarget, key: string, user: ClientTransactionUser): ClientTransaction {
    const reliable = RELIABLE.has(target.transport);
    const timers = reliable ? this.timersReliable : this.timersUnreliable;
    const send = this.traffic.countingResends((data) => this.transport.send(target, data));
    this.traffic.request('out', req.method);
    const wrapped: ClientTransactionUser = {
      onResponse: (res) => user.onResponse(res),
      onTimeout: () => user.onTimeout(),
      onTransportError: () => user.onTransportError(),
      onTerminated: () => {
        this.clientTxs.delete(key);
        user.onTerminated?.();
      },
    };
    const tx =
      req.method === 'INVITE'
        ? new InviteClientTransaction(key, req, send, timers, reliable, wrapped)
        : new NonInviteClientTransaction(key, req, send, timers, reliable, wrapped);
    this.clientTxs.set(key, tx);
    tx.start();
    return tx;
  }

  /** Sends an ACK for a 2xx (§13.2.2.4): no transaction, a new branch, sent as it is. */
  sendAck(ack: SipRequest, target: SendTarget): void {
    this.pushVia(ack, target, newBranch());
    this.traffic.request('out', 'ACK');
    this.transport.send(target, serializeMessage(ack));
  }

  private pushVia(req: SipRequest, target: SendTarget, branch: string): void {
    const local = this.localEndpoint(target);
    const host = local.address.includes(':') ? `[${local.address}]` : local.address;
    req.headers.prepend('via', `SIP/2.0/${target.transport.toUpperCase()} ${host}:${local.port};branch=${branch};rport`);
    if (!req.headers.has('max-forwards')) req.headers.set('max-forwards', '70');
    if (!req.headers.has('user-agent')) req.headers.set('user-agent', this.opts.userAgent);
  }

  /** Ends every transaction (shutdown). Timers are cleared; nothing is sent. */
  close(): void {
    for (const tx of [...this.serverTxs.values()]) tx.terminate();
    for (const tx of [...this.clientTxs.values()]) tx.terminate();
  }
}

/** An out-of-dialog OPTIONS (no To tag): all a health probe may ask (RFC 3261 §11). */
function isHealthCheck(req: SipRequest): boolean {
  return req.method === 'OPTIONS' && !/;\s*tag\s*=/i.test(req.headers.get('to') ?? '');
}
