/**
 * A SIP dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE creates — identifiers, route set,
 * remote target and CSeq spaces — and the construction of requests inside it (§12.2.1.1).
 *
 * This is state and arithmetic only. Who sends what, and when, is the invite session's job (invite-session.ts).
 */
import { Headers, createRequest, type SipRequest, type SipResponse } from './message.js';
import { parseNameAddr } from './headers/name-addr.js';
import { parseCSeq } from './headers/cseq.js';
import { parseUri } from './uri.js';
import { tagOf } from './response.js';
import type { Flow, SendTarget, TransportName } from './transport/types.js';
import { resolveTarget } from './resolve-target.js';

export enum DialogState {
  /** Created by a provisional with a tag (UAC) or before our 2xx (UAS). */
  Early = 'early',
  /** A 2xx was sent or received. */
  Confirmed = 'confirmed',
  /** BYE sent or received, or the INVITE failed. */
  Terminated = 'terminated',
}

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From/To value without tag, e.g. `<sip:8000@10.0.0.5>`. */
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  localContact: string;
  secure: boolean;
  /** The flow the dialog was created on; in-dialog requests reuse it when it is a connection to the same peer. */
  flow?: Flow;
}

export class Dialog {
  state = DialogState.Early;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localUri: string;
  readonly remoteUri: string;
  remoteTarget: string;
  readonly routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  readonly localContact: string;
  readonly secure: boolean;
  readonly flow: Flow | undefined;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.localContact = init.localContact;
    this.secure = init.secure;
    this.flow = init.flow;
  }

  get id(): string {
    return dialogId(this.callId, this.localTag, this.remoteTag);
  }

  /**
   * §12.1.1: the UAS builds its dialog from the request. Route set = Record-Route in order; remote target =
   * Contact; remote sequence = the request's CSeq; our local sequence starts fresh.
   */
  static asUas(req: SipRequest, localTag: string, localContact: string, flow: Flow): Dialog {
    const h = req.headers;
    const contact = parseNameAddr(h.getAll('contact')[0] ?? '');
    const requestUri = parseUri(req.uri);
    return new Dialog({
      callId: h.get('call-id') ?? '',
      localTag,
      remoteTag: tagOf(h.get('from') ?? '') ?? '',
      localUri: stripTag(h.get('to') ?? ''),
      remoteUri: stripTag(h.get('from') ?? ''),
      remoteTarget: contact?.uri ?? stripTag(h.get('from') ?? '').replace(/^[^<]*<|>.*$/g, ''),
      routeSet: [...h.getAll('record-route')],
      localSeq: Math.floor(Math.random() * 0x7fff) + 1,
      remoteSeq: parseCSeq(h.get('cseq') ?? '')?.seq,
      localContact,
      secure: flow.transport === 'tls' && requestUri?.scheme === 'sips',
      flow,
    });
  }

  /**
   * §12.1.2: the UAC builds its dialog from the response that creates it (a 2xx, or a provisional with a To
   * tag). "The route set MUST be set to the list of URIs in the Record-Route header field from the response,
   * taken in reverse order"; "The remote target MUST be set to the URI from the Contact header field of the
   * response"; "The local sequence number MUST be set to the value of the sequence number in the CSeq header
   * field of the request. The remote sequence number MUST be empty"; secure when the request went over TLS
   * with a SIPS Request-URI.
   */
  static asUac(invite: SipRequest, response: SipResponse, transport: TransportName): Dialog {
    const req = invite.headers;
    const res = response.headers;
    const contact = parseNameAddr(res.getAll('contact')[0] ?? '');
    return new Dialog({
      callId: req.get('call-id') ?? '',
      localTag: tagOf(req.get('from') ?? '') ?? '',
      remoteTag: tagOf(res.get('to') ?? '') ?? '',
      localUri: stripTag(req.get('from') ?? ''),
      remoteUri: stripTag(req.get('to') ?? ''),
      remoteTarget: contact?.uri ?? invite.uri,
      routeSet: [...res.getAll('record-route')].reverse(),
      localSeq: parseCSeq(req.get('cseq') ?? '')?.seq ?? 1,
      remoteSeq: undefined,
      localContact: req.get('contact') ?? '',
      secure: transport === 'tls' && parseUri(invite.uri)?.scheme === 'sips',
    });
  }

  /** §12.2.2: a request with a lower CSeq than the last one seen is out of order (answer 500). */
  acceptRemoteSeq(seq: number): boolean {
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** §12.2.1.1: a request inside the dialog. Via is added by the stack when it is sent. */
  createRequest(method: string, body?: { contentType: string; data: Buffer }, extra?: Record<string, string>): SipRequest {
    const headers = new Headers();
    // Loose routing only (every route entry carries ;lr): Request-URI = remote target, Route = route set.
    // FIXME: strict routers (RFC 2543 proxies without ;lr) are not supported; none of the PBXs we target use them.
    if (this.routeSet.length > 0) headers.set('route', this.routeSet);
    headers.set('max-forwards', '70');
    headers.set('from', `${this.localUri};tag=${this.localTag}`);
    headers.set('to', `${this.remoteUri};tag=${this.remoteTag}`);
    headers.set('call-id', this.callId);
    const seq = method === 'ACK' || method === 'CANCEL' ? this.localSeq : ++this.localSeq;
    headers.set('cseq', `${seq} ${method}`);
    if (method !== 'BYE' && method !== 'ACK' && method !== 'CANCEL') headers.set('contact', this.localContact);
    if (extra) for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    if (body) headers.set('content-type', body.contentType);
    return createRequest(method, this.remoteTarget, headers, body?.data);
  }

  /** Where in-dialog requests go: the first route, else the remote target; reusing the dialog's connection. */
  async target(): Promise<SendTarget> {
    const first = this.routeSet[0];
    const uri = first !== undefined ? (parseNameAddr(first)?.uri ?? this.remoteTarget) : this.remoteTarget;
    const target = await resolveTarget(uri);
    const flow = this.flow;
    if (flow && flow.transport !== 'udp' && flow.connectionId !== undefined && flow.remoteAddress === target.address) {
      return { ...target, transport: flow.transport, connectionId: flow.connectionId };
    }
    return target;
  }
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

function stripTag(value: string): string {
  const close = value.lastIndexOf('>');
  if (close >= 0) return value.slice(0, close + 1).trim();
  return value.replace(/;\s*tag\s*=\s*[^;\s,]+/i, '').trim();
}
