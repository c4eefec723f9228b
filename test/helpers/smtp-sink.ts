/**
 * A tiny real SMTP server (RFC 5321) on a loopback port for tests: it accepts mail and records it. It speaks
 * just what a client like nodemailer needs: greeting, EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA (with
 * dot-unstuffing), RSET, NOOP, QUIT. Knobs: answer the first `failFirst` MAIL commands with 451 (a temporary
 * failure, to exercise retries), or RCPT of one address with 550 (`rejectRecipient`).
 *
 * Also here: a minimal MIME reader for the recorded messages (headers, multipart parts, base64 and
 * quoted-printable bodies), enough to check what a notifier sent.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The DATA as received, dot-unstuffed, CRLF line ends. */
  raw: string;
  /** AUTH PLAIN user, when the client authenticated. */
  user?: string;
  /** When the DATA was complete (Date.now()). */
  at: number;
}

export interface SmtpSinkOptions {
  /** Answer this many MAIL commands with 451 before accepting. Default 0. */
  failFirst?: number;
  /** Answer RCPT of this address with 550 (a permanent failure). */
  rejectRecipient?: string;
  /** Advertise AUTH PLAIN and require it before MAIL, accepting this user and password. */
  auth?: { user: string; pass: string };
  /** Listen on this port (an SMTP server coming back where it was down). Default: any free port. */
  port?: number;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** MAIL commands answered 451. */
  failures: number;
  /** MAIL commands seen, with their time (Date.now()). */
  attempts: number[];
  close(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const sockets = new Set<Socket>();
  const sink: SmtpSink = { port: 0, mails: [], failures: 0, attempts: [], close: async () => undefined };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    let inData = false;
    let data: string[] = [];
    let from = '';
    let to: string[] = [];
    let user: string | undefined;
    const reply = (line: string): void => {
      socket.write(`${line}\r\n`);
    };
    reply('220 sink.test ESMTP ready');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let eol: number;
      while ((eol = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            sink.mails.push({ from, to, raw: data.join('\r\n'), user, at: Date.now() });
            data = [];
            reply('250 2.0.0 queued');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        const arg = line.slice(5);
        if (verb === 'EHLO') {
          const ext = ['250-sink.test', '250-8BITMIME', '250-SIZE 52428800'];
          if (options.auth) ext.push('250-AUTH PLAIN');
          ext.push('250 SMTPUTF8');
          socket.write(ext.join('\r\n') + '\r\n');
        } else if (verb === 'HELO') {
          reply('250 sink.test');
        } else if (verb === 'AUTH') {
          const [mech, initial] = arg.split(' ');
          const decoded = Buffer.from(initial ?? '', 'base64').toString('utf8').split('\0');
          if (mech?.toUpperCase() === 'PLAIN' && options.auth && decoded[1] === options.auth.user && decoded[2] === options.auth.pass) {
            user = decoded[1];
            reply('235 2.7.0 authenticated');
          } else {
            reply('535 5.7.8 authentication failed');
          }
        } else if (verb === 'MAIL') {
          sink.attempts.push(Date.now());
          if (options.auth && user === undefined) {
            reply('530 5.7.0 authentication required');
          } else if (sink.failures < (options.failFirst ?? 0)) {
            sink.failures++;
            reply('451 4.3.0 try again later');
          } else {
            from = /<([^>]*)>/.exec(arg)?.[1] ?? '';
            to = [];
            reply('250 2.1.0 ok');
          }
        } else if (verb === 'RCPT') {
          const rcpt = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          if (rcpt === options.rejectRecipient) reply('550 5.1.1 no such user');
          else {
            to.push(rcpt);
            reply('250 2.1.5 ok');
          }
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 end with <CRLF>.<CRLF>');
        } else if (verb === 'RSET') {
          from = '';
          to = [];
          reply('250 2.0.0 ok');
        } else if (verb === 'NOOP') {
          reply('250 2.0.0 ok');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 bye');
          socket.end();
        } else {
          reply('502 5.5.2 command not implemented');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  sink.port = (server.address() as { port: number }).port;
  sink.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return sink;
}

// ----------------------------------------------------------------------------------------- reading MIME

export interface MimePart {
  headers: Map<string, string>;
  /** The decoded body (transfer encoding undone). */
  body: Buffer;
}

/** Headers (unfolded, names lower-cased) and the raw body of an RFC 5322 message or MIME part. */
function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const body = end >= 0 ? raw.slice(end + 4) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decode(body: string, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    const soft = body.replace(/=\r\n/g, '');
    return Buffer.from(soft.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  }
  return Buffer.from(body, 'latin1');
}

/** The message's headers and its leaf parts (a single-part message is one part). */
export function readMime(raw: string): { headers: Map<string, string>; parts: MimePart[] } {
  const top = splitHeaders(raw);
  const parts: MimePart[] = [];
  const walk = (headers: Map<string, string>, body: string): void => {
    const type = headers.get('content-type') ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (/^multipart\//i.test(type) && boundary) {
      const chunks = body.split(`--${boundary}`);
      for (const chunk of chunks.slice(1)) {
        if (chunk.startsWith('--')) break;
        const part = splitHeaders(chunk.replace(/^\r\n/, '').replace(/\r\n$/, ''));
        walk(part.headers, part.body);
      }
      return;
    }
    parts.push({ headers, body: decode(body, headers.get('content-transfer-encoding')) });
  };
  walk(top.headers, top.body);
  return { headers: top.headers, parts };
}
