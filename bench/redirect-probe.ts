/**
 * A raw UDP client that samples the front door: INVITEs at a fixed rate from one socket, each timed to its final
 * response (a 302, or a 503 when no worker can take it), which it ACKs (RFC 3261 §17.1.1.3) and records with
 * the Contact's port (the worker the call was sent to). Microsecond timestamps, not delayed by SIPp's loop.
 *
 * For benchmarks (front-door-setup.ts: the 302's own time; worker-kill.ts: when a dead worker stops being
 * named). Not a test helper: it asserts nothing.
 */
import { createSocket } from 'node:dgram';

export interface RedirectSample {
  /** When the INVITE was sent, Date.now() ms. */
  sentAt: number;
  /** INVITE -> final response, ms. */
  ms: number;
  status: number;
  /** The Contact's port (the worker named by a 302); undefined for a 503. */
  contactPort: number | undefined;
}

/**
 * Sends `perSecond` INVITEs a second to the front door on 127.0.0.1:`port` until `seconds` have passed (or
 * `stop()` says so), then waits 2 s for the last answers; resolves with one sample per answered INVITE.
 */
export async function probeRedirects(opts: { port: number; perSecond: number; seconds: number; stop?: () => boolean }): Promise<RedirectSample[]> {
  const { port, perSecond, seconds } = opts;
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  const sent = new Map<string, { hr: bigint; at: number }>();
  const samples: RedirectSample[] = [];
  socket.on('message', (m) => {
    const text = m.toString('latin1');
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
    const callId = /^Call-ID: *(\S+)/im.exec(text)?.[1];
    const invite = callId === undefined ? undefined : sent.get(callId);
    if (status < 300 || invite === undefined || !/^CSeq: *1 INVITE/im.test(text)) return;
    const contactPort = /^Contact: *<sip:[^>]*:(\d+)[;>]/im.exec(text)?.[1];
    samples.push({ sentAt: invite.at, ms: Number(process.hrtime.bigint() - invite.hr) / 1e6, status, contactPort: contactPort === undefined ? undefined : Number(contactPort) });
    sent.delete(callId!);
    const line = (name: string): string => new RegExp(`^${name}:.*$`, 'im').exec(text)?.[0] ?? '';
    socket.send(['ACK sip:8000@127.0.0.1 SIP/2.0', line('Via'), line('From'), line('To'), `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n'), port, '127.0.0.1');
  });
  const end = Date.now() + seconds * 1000;
  for (let n = 0; Date.now() < end && !opts.stop?.(); n++) {
    const callId = `probe-${n}-${local}`;
    sent.set(callId, { hr: process.hrtime.bigint(), at: Date.now() });
    socket.send(
      [
        'INVITE sip:8000@127.0.0.1 SIP/2.0',
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${callId};rport`,
        `From: <sip:probe@127.0.0.1>;tag=${callId}`,
        'To: <sip:8000@127.0.0.1>',
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:probe@127.0.0.1:${local}>`,
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      port,
      '127.0.0.1',
    );
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  await new Promise((r) => setTimeout(r, 2000));
  socket.close();
  return samples;
}
