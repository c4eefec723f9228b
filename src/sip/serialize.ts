/**
 * SipMessage → bytes (RFC 3261 §7): start line, headers in stored order under their canonical names (one
 * line per stored value, which §7.3.1 makes equivalent to a comma list), an empty line, the body.
 *
 * Content-Length is always written and always equals body.length (§20.14: required on streams, and a stale
 * value copied from another message would corrupt framing); it takes the place of a stored Content-Length,
 * or goes last. CR and LF inside values become spaces so that no value can start a header of its own.
 *
 * Not here: choosing compact forms or folding long lines; the wire format is always the long form.
 */
import { Headers, type SipMessage } from './message.js';

export function serializeMessage(msg: SipMessage): Buffer {
  let head = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  const length = `Content-Length: ${msg.body.length}\r\n`;
  let lengthWritten = false;
  for (const [name, values] of msg.headers.entries()) {
    if (name === 'content-length') {
      if (!lengthWritten) head += length;
      lengthWritten = true;
      continue;
    }
    const wire = Headers.wireName(name);
    for (const value of values) head += `${wire}: ${oneLine(value)}\r\n`;
  }
  if (!lengthWritten) head += length;
  head += '\r\n';
  const headBytes = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headBytes + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headBytes);
  return out;
}

function oneLine(value: string): string {
  if (value.indexOf('\n') < 0 && value.indexOf('\r') < 0) return value;
  return value.replace(/[\r\n]+/g, ' ');
}
