/**
 * CSeq (RFC 3261 §20.16): `CSeq = "CSeq" HCOLON 1*DIGIT LWS Method`.
 *
 * §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer and MUST be less than
 * 2**31." A larger number makes the header unusable (RFC 4475 §3.1.2.4 answers such a request with 400).
 * Leading zeros are allowed ("0009", RFC 4475 §3.1.1.1).
 */
import { scanToken, skipWs } from './tokens.js';

const MAX_SEQ = 2 ** 31 - 1;

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(value: string): CSeq | undefined {
  const s = value;
  const n = s.length;
  let i = skipWs(s, 0);
  const digitsStart = i;
  let seq = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    if (seq > MAX_SEQ) return undefined;
    i++;
  }
  if (i === digitsStart) return undefined;
  const methodStart = skipWs(s, i);
  if (methodStart === i) return undefined;
  const methodEnd = scanToken(s, methodStart);
  if (methodEnd === methodStart || skipWs(s, methodEnd) !== n) return undefined;
  return { seq, method: s.slice(methodStart, methodEnd) };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}
