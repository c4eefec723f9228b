/**
 * `vmpilot ping`: is the vmpilot on this host taking calls? One SIP OPTIONS (RFC 3261 §11) to its own listener,
 * and the final response decides: 200 yes; 503 no (draining for shutdown, or out of capacity); anything else,
 * no final response within the time allowed, or no connection: no. Made for container health checks
 * (Dockerfile HEALTHCHECK), which run it every few seconds, so it is one request and one socket, closed after.
 *
 * The request is built and the response read with the SIP stack's message code (message.ts, serialize.ts,
 * parse.ts, and the stream framer for TCP and TLS); no transaction layer: over UDP the request is sent again
 * at T1 and 3*T1 (§17.1.2.2's first retransmissions), which is all a 2 s budget holds.
 *
 * TLS: the server's certificate is not verified. This asks a server on this host whether it answers, and its
 * certificate names the host PBXs reach it by, not 127.0.0.1; nothing secret is sent.
 *
 * Not here: exit codes (cli.ts).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ListenSpec } from '../config/schema.js';
import { createRequest, Headers } from '../sip/message.js';
import { newBranch, newCallId, newTag } from '../sip/ids.js';
import { MAX_MESSAGE_BYTES, parseMessage } from '../sip/parse.js';
import { serializeMessage } from '../sip/serialize.js';
import { StreamFramer } from '../sip/transport/stream-framer.js';
import { formatUri, parseUri } from '../sip/uri.js';

export interface PingTarget {
  transport: 'udp' | 'tcp' | 'tls';
  /** An IP address. */
  host: string;
  port: number;
}

export type PingResult =
  /** A final response came. */
  | { answered: true; status: number; reason: string; ms: number }
  /** None did: why, in words. */
  | { answered: false; why: string };

/** RFC 3261 §17.1.1.1 T1. */
const T1_MS = 500;

/** "udp:127.0.0.1:5060", "tls:[::1]:5061". */
export function targetText(t: PingTarget): string {
  return `${t.transport}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/**
 * The listener of the config to ask: the first UDP one, else the first TCP one, else the first TLS one; a
 * wildcard address is asked on loopback. A message when there is none to ask (port 0 is chosen at start).
 */
export function pingTarget(listen: readonly ListenSpec[]): PingTarget | string {
  const order = ['udp', 'tcp', 'tls'] as const;
  const spec = order.map((t) => listen.find((l) => l.transport === t)).find((l) => l !== undefined);
  if (spec === undefined) return 'the config has no SIP listener';
  if (spec.port === 0) return `sip.listen ${spec.transport} port 0 is chosen when the server starts: give --target`;
  const host = spec.host === '0.0.0.0' ? '127.0.0.1' : spec.host === '::' ? '::1' : spec.host;
  return { transport: spec.transport, host, port: spec.port };
}

/** A --target value: "sip:127.0.0.1:5060;transport=tcp" (IP address, port 5060 by default, transport udp by default). */
export function parsePingTarget(text: string): PingTarget | string {
  const uri = parseUri(text);
  const bad = `"${text}" is not a target such as sip:127.0.0.1:5060;transport=udp`;
  if (uri === undefined || uri.scheme === 'tel' || isIP(uri.host) === 0) return `${bad} (an IP address is needed)`;
  const transport = (uri.params.get('transport') ?? (uri.scheme === 'sips' ? 'tls' : 'udp')).toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') return `${bad} (transport udp, tcp or tls)`;
  return { transport, host: uri.host, port: uri.port ?? (transport === 'tls' ? 5061 : 5060) };
}

/** Sends one OPTIONS to `target`; resolves with its final response, or why none came within `timeoutMs`. Never rejects. */
export function ping(target: PingTarget, timeoutMs: number): Promise<PingResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const callId = newCallId();
    let close = (): void => undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (result: PingResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      resolve(result);
    };
    timer = setTimeout(() => finish({ answered: false, why: `no answer from ${targetText(target)} within ${timeoutMs} ms` }), timeoutMs);
    const onData = (data: Buffer): void => {
      const outcome = parseMessage(data);
      if (!outcome.ok || outcome.message.kind !== 'response' || outcome.message.headers.get('call-id') !== callId) return;
      const { status, reason } = outcome.message;
      if (status >= 200) finish({ answered: true, status, reason, ms: Math.round(performance.now() - started) });
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens there)' : (err.code ?? err.message);
      finish({ answered: false, why: `${targetText(target)}: ${why}` });
    };

    if (target.transport === 'udp') {
      const socket: UdpSocket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
      close = () => socket.close();
      socket.on('message', onData);
      socket.on('error', onError);
      socket.bind(0, () => {
        const bytes = optionsRequest(target, callId, socket.address().address, socket.address().port);
        const send = (): void => socket.send(bytes, target.port, target.host);
        send();
        // §17.1.2.2: Timer E starts at T1 and doubles; a host that drops one datagram gets two more chances.
        const resend = [setTimeout(send, T1_MS), setTimeout(send, 3 * T1_MS)];
        const closeSocket = close;
        close = () => {
          resend.forEach(clearTimeout);
          closeSocket();
        };
      });
      return;
    }
    const socket: Socket =
      target.transport === 'tls'
        ? connectTls({ host: target.host, port: target.port, rejectUnauthorized: false }) // See the module comment.
        : connectTcp({ host: target.host, port: target.port });
    close = () => socket.destroy();
    const framer = new StreamFramer(MAX_MESSAGE_BYTES, {
      onMessage: onData,
      onPing: () => undefined,
      onError: (reason) => finish({ answered: false, why: `${targetText(target)} sent something that is not SIP (${reason})` }),
    });
    socket.on(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      socket.write(optionsRequest(target, callId, socket.localAddress ?? target.host, socket.localPort ?? 0));
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', onError);
    socket.on('close', () => finish({ answered: false, why: `${targetText(target)} closed the connection without answering` }));
  });
}

/** What an operator reads: whether the server takes calls, and one line saying so (and why not). */
export function pingVerdict(result: PingResult, target: PingTarget): { ok: boolean; line: string } {
  if (!result.answered) {
    // sip.strangers: ignore answers nothing to an address it does not trust, which looks like a dead server.
    const hint = result.why.startsWith('no answer') ? ` (not running, or it ignores ${target.host}: see sip.strangers and pbx[].addresses)` : '';
    return { ok: false, line: result.why + hint };
  }
  const said = `${result.status} ${result.reason} from ${targetText(target)} in ${result.ms} ms`;
  if (result.status === 200) return { ok: true, line: said };
  if (result.status === 503) return { ok: false, line: `${said}: the server is draining for shutdown or cannot take calls` };
  // A stranger's OPTIONS gets 403 (sip.strangers): with pbx configured, loopback is trusted only when listed.
  if (result.status === 403) return { ok: false, line: `${said}: the server does not trust ${target.host} (list it in a pbx entry's addresses for health checks)` };
  return { ok: false, line: said };
}

/** The OPTIONS request (§11.1: Max-Forwards 70, Accept application/sdp; a Via naming our socket, §18.1.1). */
function optionsRequest(target: PingTarget, callId: string, localHost: string, localPort: number): Buffer {
  const params = new Map<string, string | null>(target.transport === 'udp' ? [] : [['transport', target.transport]]);
  const uri = formatUri({ scheme: 'sip', host: target.host, port: target.port, params, headers: new Map() });
  const sentBy = `${localHost.includes(':') ? `[${localHost}]` : localHost}:${localPort}`;
  const headers = new Headers()
    .set('via', `SIP/2.0/${target.transport.toUpperCase()} ${sentBy};branch=${newBranch()};rport`)
    .set('max-forwards', '70')
    .set('from', `<sip:vmpilot-ping@${sentBy}>;tag=${newTag()}`)
    .set('to', `<${uri}>`)
    .set('call-id', callId)
    .set('cseq', '1 OPTIONS')
    .set('accept', 'application/sdp');
  return serializeMessage(createRequest('OPTIONS', uri, headers));
}
