/**
 * The 302 front door (DESIGN.md, "Scaling: the 302 front door"; seed 003, "Direct SIP"): a redirect server
 * (RFC 3261 §8.3) on sip.listen. Each initial INVITE is answered `302 Moved Temporarily` whose Contact names
 * one worker: the host the PBX reached us on, the worker's own port, the request's transport, and the user
 * part the PBX dialled. The PBX acknowledges the 302 (the stack's INVITE server transaction absorbs that ACK,
 * §17.2.1) and sends the INVITE again to the worker, where the dialog then lives.
 *
 * What it is not: a proxy (nothing is forwarded, nothing about the call is kept), nor a UA (no dialogs: an
 * in-dialog request that reaches the front door by mistake gets 481). SUBSCRIBE is the exception: the front
 * door owns the MWI subscriptions, so that exactly one process sends NOTIFYs (issue 13, "one store, one lamp").
 */
import type { Logger } from 'pino';
import type { SipResponse } from '../sip/message.js';
import type { IncomingRequest } from '../sip/incoming-request.js';
import type { SipStack, TransactionUser } from '../sip/stack.js';
import { tagOf } from '../sip/response.js';
import { formatUri, parseUri, type SipUri } from '../sip/uri.js';
import { failsUasChecks } from '../sip/uas-checks.js';
import type { Flow } from '../sip/transport/types.js';
import type { Choice, WorkerTable } from './health.js';

/** What the front door serves itself; everything else out of dialog is 405 (known) or 501 (§8.2.1). */
const SERVED = new Set(['INVITE', 'ACK', 'CANCEL', 'OPTIONS']);
const KNOWN_NOT_SERVED = new Set(['BYE', 'INFO', 'UPDATE', 'NOTIFY', 'REFER', 'REGISTER', 'MESSAGE', 'PUBLISH', 'PRACK', 'SUBSCRIBE']);
/** Request-URI parameters that say how to reach the front door, not what was dialled: not copied. */
const ROUTING_PARAMS = new Set(['transport', 'maddr', 'ttl', 'lr', 'method']);

export interface RedirectorOptions {
  logger: Logger;
  workers: WorkerTable;
  /** True while the front door drains for shutdown: INVITE and OPTIONS get 503. */
  draining(): boolean;
  /** Retry-After (s) on a 503: when the PBX should try us again (seed 003 §6: it tries its next server now). */
  retryAfterS(): number;
}

export class Redirector implements TransactionUser {
  /** The SUBSCRIBE handler (the MWI service sets it, mwi/service.ts); unset: SUBSCRIBE gets 405. */
  onSubscribe: ((inc: IncomingRequest) => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly stack: SipStack,
    private readonly opts: RedirectorOptions,
  ) {
    this.log = opts.logger;
    stack.tu = this;
  }

  onRequest(inc: IncomingRequest): void {
    const method = inc.method;
    const subscribe = method === 'SUBSCRIBE' && this.onSubscribe !== undefined;
    // §8.2.1: a method nobody here knows is 501; one we know but do not serve here (out of dialog) is 405.
    if (!SERVED.has(method) && !KNOWN_NOT_SERVED.has(method)) {
      inc.respond(501, { headers: { allow: this.allow() } });
      return;
    }
    if (failsUasChecks(this.stack, inc)) return;
    if (subscribe) {
      // New subscriptions and their refreshes: the front door owns every SUBSCRIBE dialog.
      this.subscribe(inc);
      return;
    }
    if (tagOf(inc.message.headers.get('to') ?? '') !== undefined) {
      // §12.2.2: a request in a dialog we do not have (the dialog lives on a worker).
      inc.respond(481);
      return;
    }
    if (!SERVED.has(method)) {
      inc.respond(405, { headers: { allow: this.allow() } });
      return;
    }
    if (method === 'OPTIONS') {
      // A PBX's health check: 200 only while a call sent here would be served (seed 003 §6).
      if (this.opts.draining() || !this.opts.workers.canTakeCalls()) this.unavailable(inc);
      else inc.respond(200, { headers: { allow: this.allow(), accept: 'application/sdp' } });
      return;
    }
    this.redirect(inc);
  }

  /** The ACK for a 2xx: we never send one, so there is nothing to acknowledge. */
  onAck(_ack: IncomingRequest): void {}

  /** The 302 or 503 went out at once, so a CANCEL always finds the INVITE answered (the stack says 200). */
  onCancel(_invite: IncomingRequest): void {}

  onStray2xx(_res: SipResponse): void {}

  private redirect(inc: IncomingRequest): void {
    const choice = this.opts.draining() ? undefined : this.opts.workers.choose(inc.flow.transport);
    if (!choice) {
      this.log.warn({ callId: inc.callId, draining: this.opts.draining() }, 'no worker can take the call; 503');
      this.unavailable(inc);
      return;
    }
    const contact = this.contactFor(inc, choice);
    if (!contact) {
      inc.respond(416);
      return;
    }
    // §8.3: "the Contact header field ... contains URIs giving the new locations"; 302 = Moved Temporarily.
    inc.respond(302, { headers: { contact: `<${contact}>` } });
    this.log.debug({ callId: inc.callId, worker: choice.worker.name, contact }, 'call redirected');
  }

  private unavailable(inc: IncomingRequest): void {
    inc.respond(503, { headers: { 'retry-after': String(this.opts.retryAfterS()) } });
  }

  /**
   * The worker's URI for this call: the dialled user part and its parameters (user=phone), the worker's host
   * (or the host the PBX reached us on) and port, and the transport of the request. Over TLS a sips:
   * Request-URI gets a sips: Contact; a sip: one gets sip:...;transport=tls (RFC 5630 §3: a sip: caller may not
   * follow a sips: target). Undefined for a Request-URI we cannot read.
   */
  private contactFor(inc: IncomingRequest, choice: Choice): string | undefined {
    const dialled = parseUri(inc.message.uri);
    if (!dialled) return undefined;
    const params = new Map<string, string | null>();
    for (const [name, value] of dialled.params) if (!ROUTING_PARAMS.has(name)) params.set(name, value);
    const user = dialled.scheme === 'tel' ? dialled.number : dialled.user;
    if (dialled.scheme === 'tel') params.set('user', 'phone');
    const transport = inc.flow.transport;
    const sips = transport === 'tls' && dialled.scheme === 'sips';
    if (transport !== 'udp' && !sips) params.set('transport', transport);
    const target: SipUri = {
      scheme: sips ? 'sips' : 'sip',
      user,
      host: choice.endpoint.host ?? this.hostReached(inc.flow),
      port: choice.endpoint.port,
      params,
      headers: new Map(),
    };
    return formatUri(target);
  }

  /** The address the PBX sent to (or sip.advertise): a worker on this machine is reachable there too. */
  private hostReached(flow: Flow): string {
    return this.stack.localEndpoint({ transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort }).address;
  }

  private subscribe(inc: IncomingRequest): void {
    try {
      this.onSubscribe?.(inc);
    } catch (err) {
      this.log.error({ err, callId: inc.callId }, 'SUBSCRIBE handler failed');
      inc.respond(500);
    }
  }

  private allow(): string {
    return this.onSubscribe ? 'INVITE, ACK, CANCEL, OPTIONS, SUBSCRIBE' : 'INVITE, ACK, CANCEL, OPTIONS';
  }
}
