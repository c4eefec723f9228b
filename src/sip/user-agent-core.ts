/**
 * The UAS core (RFC 3261 §8.2) and the dialog layer: checks every request in the RFC's order, answers what
 * needs no application (OPTIONS, unknown methods, stray in-dialog requests), routes in-dialog requests and ACKs
 * through its one dialog table (dialog-usage.ts) to the dialog's usage, whichever side created it (an
 * InviteSession we answered, a call we placed: outgoing-invite.ts registers with addDialog), and hands each
 * new INVITE to the application through `onInvite`, and every SUBSCRIBE (new, or in a dialog no INVITE usage
 * owns) to `onSubscribe` when one is set (RFC 6665, MWI).
 */
import type { Logger } from 'pino';
import type { SipResponse } from './message.js';
import type { IncomingRequest } from './incoming-request.js';
import type { SipStack, TransactionUser } from './stack.js';
import { InviteSession, type InviteSessionOptions } from './invite-session.js';
import type { DialogTable, DialogUsage } from './dialog-usage.js';
import { dialogId } from './dialog.js';
import { tagOf } from './response.js';
import { findSdp } from './body.js';
import type { TimerSet } from './transaction/timers.js';
import type { DigestCredentials } from './auth/digest.js';
import { MIN_SE_FLOOR_S } from './session-timer.js';
import { listElements } from './headers/tokens.js';
import { failsUasChecks } from './uas-checks.js';

/** Methods we implement; anything else is 501 (§8.2.1). */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'NOTIFY', 'REFER'] as const;
/** Methods we recognise but do not serve out of dialog: 405 with Allow rather than 501. */
const KNOWN_NOT_SERVED = new Set(['REGISTER', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH', 'PRACK']);
const ALLOW = ALLOWED_METHODS.join(', ');

export interface UserAgentCoreOptions {
  logger: Logger;
  timers: (reliable: boolean) => TimerSet;
  sessionExpiresS: number;
  /** Our Contact for a dialog created by this request (host and port the peer can reach us on). */
  contactFor(inc: IncomingRequest): string;
  /** Credentials for a peer that challenges our requests, by source address. */
  credentialsFor?(address: string): DigestCredentials | undefined;
  /** When true, new INVITEs and OPTIONS get 503 (draining for shutdown). */
  draining(): boolean;
  /** Retry-After (seconds) on that 503: when this server will be gone and the PBX should have moved on. */
  drainRetryAfterS: number;
  /** Told of a new INVITE refused here, before any session (draining, a body that is not SDP): call records. */
  onInviteRefused?(invite: IncomingRequest, status: number): void;
}

export class UserAgentCore implements TransactionUser, DialogTable {
  /** The application: called once per new INVITE with a session that must be accepted or rejected. */
  onInvite: ((session: InviteSession) => void) | undefined;
  /**
   * The subscription layer (RFC 6665): called with every SUBSCRIBE that passed the §8.2 checks, new ones (no
   * To tag) and those inside a dialog that no INVITE session owns (refresh, unsubscribe); it must answer each.
   * Unset: SUBSCRIBE gets 405 outside a dialog and 481 inside one.
   */
  onSubscribe: ((inc: IncomingRequest) => void) | undefined;
  /** Every dialog we are in, by dialog id (RFC 3261 §12): UAS sessions and UAC calls alike. */
  private readonly dialogs = new Map<string, DialogUsage>();
  private readonly pendingByTx = new Map<string, InviteSession>();
  private readonly log: Logger;

  constructor(
    private readonly stack: SipStack,
    private readonly opts: UserAgentCoreOptions,
  ) {
    this.log = opts.logger;
    stack.tu = this;
  }

  get activeSessions(): number {
    return this.allSessions().length;
  }

  /** Dialogs in the table, either side (leak tests). */
  get dialogCount(): number {
    return this.dialogs.size;
  }

  /** The INVITE sessions we answered. */
  allSessions(): InviteSession[] {
    return [...this.dialogs.values()].filter((d): d is InviteSession => d instanceof InviteSession);
  }

  addDialog(id: string, usage: DialogUsage): () => void {
    this.dialogs.set(id, usage);
    return () => {
      if (this.dialogs.get(id) === usage) this.dialogs.delete(id);
    };
  }

  onRequest(inc: IncomingRequest): void {
    const req = inc.message;
    const headers = req.headers;
    // §8.2.1: method inspection.
    if (!(ALLOWED_METHODS as readonly string[]).includes(req.method) && !this.servesSubscribe(req.method)) {
      inc.respond(KNOWN_NOT_SERVED.has(req.method) ? 405 : 501, { headers: { allow: this.allow() } });
      return;
    }
    if (failsUasChecks(this.stack, inc)) return;
    const toTag = tagOf(headers.get('to') ?? '');
    if (toTag !== undefined) {
      this.inDialog(inc, toTag);
      return;
    }
    switch (req.method) {
      case 'OPTIONS':
        // A PBX or load balancer polls OPTIONS to decide where calls go: a draining server must say it takes
        // none, or calls keep arriving only to get 503 one by one (RFC 3261 §21.5.4).
        if (this.refusedWhileDraining(inc)) return;
        inc.respond(200, {
          headers: { allow: this.allow(), accept: 'application/sdp', 'accept-encoding': 'identity', 'accept-language': 'en', supported: 'timer' },
        });
        return;
      case 'INVITE':
        this.newInvite(inc);
        return;
      case 'SUBSCRIBE':
        this.subscribe(inc);
        return;
      default:
        // BYE, INFO, UPDATE, NOTIFY, REFER without a To tag name no dialog we have.
        inc.respond(481);
    }
  }

  onAck(ack: IncomingRequest): void {
    const toTag = tagOf(ack.message.headers.get('to') ?? '');
    const fromTag = tagOf(ack.message.headers.get('from') ?? '');
    if (toTag === undefined || fromTag === undefined) return;
    this.dialogs.get(dialogId(ack.callId, toTag, fromTag))?.ack(ack);
  }

  onCancel(invite: IncomingRequest): void {
    const key = invite.transaction?.key;
    if (key !== undefined) this.pendingByTx.get(key)?.cancelled();
  }

  onStray2xx(res: SipResponse): void {
    // Our INVITE: the From tag is ours, the To tag the far end's. A call we placed resends its ACK; an answered
    // session's re-INVITE (session refresh) ACKed its 2xx when it first came, and has nothing left to do.
    const local = tagOf(res.headers.get('from') ?? '');
    const remote = tagOf(res.headers.get('to') ?? '');
    if (local === undefined || remote === undefined) return;
    this.dialogs.get(dialogId(res.headers.get('call-id') ?? '', local, remote))?.stray2xx?.(res);
  }

  /** Ends every call (shutdown). */
  async shutdownAll(): Promise<void> {
    await Promise.all(this.allSessions().map((s) => s.shutdown()));
  }

  private inDialog(inc: IncomingRequest, toTag: string): void {
    const fromTag = tagOf(inc.message.headers.get('from') ?? '') ?? '';
    const session = this.dialogs.get(dialogId(inc.callId, toTag, fromTag));
    if (!session && this.servesSubscribe(inc.method)) {
      // A subscription's own dialog (refresh, unsubscribe): the subscription layer knows it, or answers 481.
      this.subscribe(inc);
      return;
    }
    if (!session) {
      // §12.2.2: "If the UAS receives a request ... with a To tag that does not match an existing dialog, it
      // SHOULD return a 481".
      inc.respond(481);
      return;
    }
    inc.useToTag(toTag);
    session.inDialog(inc);
  }

  private servesSubscribe(method: string): boolean {
    return method === 'SUBSCRIBE' && this.onSubscribe !== undefined;
  }

  /** Allow (§20.5): our methods, and SUBSCRIBE while a subscription layer is attached. */
  private allow(): string {
    return this.onSubscribe ? `${ALLOW}, SUBSCRIBE` : ALLOW;
  }

  private subscribe(inc: IncomingRequest): void {
    try {
      this.onSubscribe?.(inc);
    } catch (err) {
      this.log.error({ err, callId: inc.callId }, 'SUBSCRIBE handler failed');
      inc.respond(500);
    }
  }

  /** While draining: answers 503 with Retry-After (when this server will be gone) and returns true. */
  private refusedWhileDraining(inc: IncomingRequest): boolean {
    if (!this.opts.draining()) return false;
    inc.respond(503, { headers: { 'retry-after': String(this.opts.drainRetryAfterS) }, reason: 'Shutting Down' });
    return true;
  }

  private newInvite(inc: IncomingRequest): void {
    if (this.refusedWhileDraining(inc)) {
      this.opts.onInviteRefused?.(inc, 503);
      return;
    }
    const body = findSdp(inc.message);
    if (body.kind === 'unsupported') {
      // §8.2.3: a body we cannot read → 415 with what we accept.
      inc.respond(415, { headers: { accept: 'application/sdp' } });
      this.opts.onInviteRefused?.(inc, 415);
      return;
    }
    if (!acceptsSdp(inc.message.headers.getAll('accept'))) {
      // RFC 3261 §21.4.7 and RFC 4475 sdp01: our 2xx must carry SDP; a request that accepts no SDP cannot get one.
      inc.respond(406, { headers: { accept: 'application/sdp' } });
      this.opts.onInviteRefused?.(inc, 406);
      return;
    }
    const reliable = inc.flow.transport !== 'udp';
    const opts: InviteSessionOptions = {
      stack: this.stack,
      invite: inc,
      localContact: this.opts.contactFor(inc),
      timers: this.opts.timers(reliable),
      sessionExpiresS: this.opts.sessionExpiresS,
      minSeS: MIN_SE_FLOOR_S,
      logger: this.log,
      credentials: this.opts.credentialsFor?.(inc.flow.remoteAddress),
      onClosed: () => {
        removeDialog();
        if (inc.transaction) this.pendingByTx.delete(inc.transaction.key);
      },
      dialogs: this,
    };
    const session = new InviteSession(opts);
    const removeDialog = this.addDialog(session.dialog.id, session);
    if (inc.transaction) this.pendingByTx.set(inc.transaction.key, session);
    if (!this.onInvite) {
      session.reject(480);
      return;
    }
    try {
      this.onInvite(session);
    } catch (err) {
      this.log.error({ err, callId: inc.callId }, 'INVITE handler failed');
      session.reject(500);
    }
  }
}

/** True when there is no Accept header or one of its media ranges covers application/sdp. */
function acceptsSdp(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  const ranges = listElements(values).map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  return ranges.some((r) => r === 'application/sdp' || r === 'application/*' || r === '*/*' || r === '');
}
