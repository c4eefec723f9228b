/**
 * A tiny SIP UAC over UDP for media tests, built on RawUdpPeer: it places one call (INVITE with the SDP the
 * test wrote, ACK for the final response), can send re-INVITEs and BYE in the dialog, and answers the
 * server's in-dialog requests (BYE, INFO, NOTIFY...) with 200 so that the server can end the call cleanly.
 *
 * Not here: retransmissions (loopback does not lose datagrams), authentication, forking, TCP/TLS, PRACK.
 * Tests that need exact SIP bytes or timing use RawUdpPeer directly.
 */
import { randomBytes } from 'node:crypto';
import { RawUdpPeer, okFor } from './raw-peer.js';

/** A final response as received. */
export interface SipResponse {
  status: number;
  text: string;
  /** The body (SDP for a 2xx to an INVITE), '' when there is none. */
  body: string;
  /** The first value of a header (long or compact name, case-insensitive), or undefined. */
  header(name: string): string | undefined;
}

const COMPACT: Record<string, string> = {
  'call-id': 'i', contact: 'm', 'content-length': 'l', 'content-type': 'c', from: 'f', to: 't', via: 'v',
};

/** The first value of header `name` in a SIP message's text. */
export function headerOf(text: string, name: string): string | undefined {
  const head = text.split('\r\n\r\n')[0]!;
  const names = [name.toLowerCase(), COMPACT[name.toLowerCase()]].filter((n): n is string => n !== undefined);
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && names.includes(line.slice(0, colon).trim().toLowerCase())) return line.slice(colon + 1).trim();
  }
  return undefined;
}

function toResponse(text: string): SipResponse {
  const split = text.indexOf('\r\n\r\n');
  return {
    status: Number(text.slice(8, 11)),
    text,
    body: split < 0 ? '' : text.slice(split + 4),
    header: (name) => headerOf(text, name),
  };
}

const branch = (): string => `z9hG4bK${randomBytes(6).toString('hex')}`;

export class SipUac {
  readonly callId = `uac-${randomBytes(6).toString('hex')}`;
  /** In-dialog requests the server sent us (each answered 200), in order. */
  readonly requests: string[] = [];
  private readonly fromTag = randomBytes(4).toString('hex');
  private cseq = 0;
  private toHeader = '';
  private remoteTarget = '';
  private requestUri = '';
  private scanned = 0;
  private readonly poller: NodeJS.Timeout;

  private constructor(
    private readonly peer: RawUdpPeer,
    private readonly serverPort: number,
    private readonly address: string,
  ) {
    // Answer the server's requests as they come (RawUdpPeer only records; poll its list).
    this.poller = setInterval(() => this.answerRequests(), 5);
  }

  /** Opens a UAC on `address` (default 127.0.0.1, any port) that talks to the server's UDP port. */
  static async open(serverPort: number, address = '127.0.0.1'): Promise<SipUac> {
    return new SipUac(await RawUdpPeer.open(address), serverPort, address);
  }

  /** Whether the server has sent BYE (answered 200). */
  get byeReceived(): boolean {
    return this.requests.some((r) => r.startsWith('BYE '));
  }

  /**
   * Sends INVITE to `service` with `sdp` and resolves with the final response, after ACKing it (a 2xx with
   * a new transaction, RFC 3261 §13.2.2.4; any other with the INVITE's branch, §17.1.1.3).
   */
  async invite(sdp: string, service = '8000'): Promise<SipResponse> {
    this.requestUri = `sip:${service}@127.0.0.1:${this.serverPort}`;
    this.toHeader = `<sip:${service}@127.0.0.1>`;
    const via = branch();
    const response = await this.transact(this.request('INVITE', this.requestUri, ++this.cseq, via, sdp), this.cseq, 'INVITE');
    this.toHeader = response.header('to') ?? this.toHeader;
    if (response.status >= 200 && response.status < 300) {
      this.remoteTarget = /<([^>]*)>/.exec(response.header('contact') ?? '')?.[1] ?? this.requestUri;
      await this.peer.send(this.serverPort, this.request('ACK', this.remoteTarget, this.cseq, branch()));
    } else {
      await this.peer.send(this.serverPort, this.request('ACK', this.requestUri, this.cseq, via));
    }
    return response;
  }

  /** A re-INVITE in the dialog with a new offer; ACKs the final response. */
  async reinvite(sdp: string): Promise<SipResponse> {
    const via = branch();
    const cseq = ++this.cseq;
    const response = await this.transact(this.request('INVITE', this.remoteTarget, cseq, via, sdp), cseq, 'INVITE');
    const ok = response.status >= 200 && response.status < 300;
    await this.peer.send(this.serverPort, this.request('ACK', this.remoteTarget, cseq, ok ? branch() : via));
    return response;
  }

  /** Ends the call with BYE; resolves with the final response. */
  async bye(): Promise<SipResponse> {
    const cseq = ++this.cseq;
    return this.transact(this.request('BYE', this.remoteTarget, cseq, branch()), cseq, 'BYE');
  }

  /** Resolves when the server has sent BYE; rejects after timeoutMs. */
  async waitForBye(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.byeReceived) {
      if (Date.now() > end) throw new Error(`no BYE from the server within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    clearInterval(this.poller);
    this.peer.close();
  }

  private async transact(message: string, cseq: number, method: string): Promise<SipResponse> {
    const from = this.peer.received.length;
    await this.peer.send(this.serverPort, message);
    const cseqLine = new RegExp(`^(CSeq|cseq): *${cseq} ${method}\\r?$`, 'm');
    const hit = await this.peer.waitFor(
      (t) => /^SIP\/2\.0 [2-6]\d\d /.test(t) && t.includes(this.callId) && cseqLine.test(t),
      5000,
      from,
    );
    return toResponse(hit.text);
  }

  private request(method: string, uri: string, cseq: number, viaBranch: string, body = ''): string {
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.peer.port};branch=${viaBranch};rport`,
      `From: <sip:27000@${this.address}>;tag=${this.fromTag}`,
      `To: ${this.toHeader}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:27000@${this.address}:${this.peer.port}>`,
      'Max-Forwards: 70',
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  private answerRequests(): void {
    const received = this.peer.received;
    for (; this.scanned < received.length; this.scanned++) {
      const text = received[this.scanned]!.text;
      if (text.startsWith('SIP/2.0') || text.startsWith('ACK ')) continue;
      this.requests.push(text);
      void this.peer.send(this.serverPort, okFor(text)).catch(() => undefined);
    }
  }
}
