/**
 * SDP Security Descriptions (RFC 4568): parse and format `a=crypto` for the SRTP transport, pick the offer we
 * can honour, and make our answer with fresh key material.
 *
 * Pure string/byte code. A parse never throws: it returns the crypto or a reason a log line (and the
 * operator reading it) can act on, such as "unsupported crypto-suite AES_256_CM_HMAC_SHA1_80".
 *
 * What we honour: AES_CM_128_HMAC_SHA1_80 and _32, one inline key, a lifetime of at least
 * MIN_HONOURED_LIFETIME packets (we never re-key mid-call), an MKI of 1-4 bytes, the WSH and FEC_ORDER
 * session parameters. What we refuse: other suites and key methods, several master keys, KDR,
 * UNENCRYPTED_SRTP/SRTCP, UNAUTHENTICATED_SRTP, FEC_KEY and unknown session parameters (refusing what we
 * do not understand is the safe reading of §6.3; FIXME if a PBX sends a harmless one we do not know).
 */
import { randomBytes } from 'node:crypto';
import { SRTP_SUITES, type SrtpSuite } from './context.js';
import { MASTER_KEY_LENGTH, MASTER_SALT_LENGTH } from './kdf.js';

/** One parsed `a=crypto` line. */
export interface SdesCrypto {
  /** The tag (1-9 digits) the answer must repeat (RFC 4568 §5.1). */
  readonly tag: number;
  readonly suite: SrtpSuite;
  /** 16-byte master key. */
  readonly masterKey: Buffer;
  /** 14-byte master salt. */
  readonly masterSalt: Buffer;
  /** Packets the key may protect, when the line said so (RFC 4568 §6.1); the session enforces it. */
  readonly lifetime?: number;
  /** Master key identifier and its length in bytes (RFC 4568 §6.1). */
  readonly mki?: { readonly value: number; readonly length: number };
  /** Session parameters as written (only ones we honour survive parsing). */
  readonly sessionParams: readonly string[];
}

/** parseCrypto's answer. */
export type SdesParseResult =
  | { readonly ok: true; readonly crypto: SdesCrypto }
  | { readonly ok: false; readonly reason: string };

/**
 * The smallest key lifetime we accept: 2^20 packets, 5.8 hours of 20 ms packets. We derive keys once and
 * never re-key, so a shorter lifetime could run out inside a call.
 */
export const MIN_HONOURED_LIFETIME = 2 ** 20;
/** RFC 4568 §6.2.1/§6.2.2 give both suites a maximum SRTP lifetime of 2^48 packets. */
export const MAX_SUITE_LIFETIME = 2 ** 48;

const SUITES = Object.keys(SRTP_SUITES) as SrtpSuite[];
const KEY_SALT_LENGTH = MASTER_KEY_LENGTH + MASTER_SALT_LENGTH;
// RFC 4568 §9: base64 as RFC 3548 §3 (the standard alphabet, with padding).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses one crypto attribute, given as the SDP line (`a=crypto:1 ...`) or as its value (`1 ...`).
 *
 * RFC 4568 §9.1: crypto-attribute = "crypto:" tag 1*WSP crypto-suite 1*WSP key-params
 * *(1*WSP session-param); §9.2 for SRTP: key-info = key-salt ["|" lifetime] ["|" mki].
 */
export function parseCrypto(line: string): SdesParseResult {
  let text = line.trim();
  if (text.startsWith('a=')) text = text.slice(2);
  if (text.startsWith('crypto:')) text = text.slice('crypto:'.length);
  const fields = text.split(/[ \t]+/);
  if (fields.length < 3) return fail('a crypto attribute needs a tag, a crypto-suite and key-params');
  const [tagText, suiteText, keyParams, ...sessionParams] = fields as [string, string, string, ...string[]];
  if (!/^[0-9]{1,9}$/.test(tagText)) return fail(`bad tag "${tagText}" (RFC 4568 §9.1: 1*9DIGIT)`);
  if (!(SUITES as string[]).includes(suiteText)) return fail(`unsupported crypto-suite ${suiteText}`);
  const suite = suiteText as SrtpSuite;

  // §9.1: key-params = key-param *(";" key-param). More than one is several master keys, told apart by MKI.
  if (keyParams.includes(';')) return fail('several master keys (key-params with ";") are not supported');
  const colon = keyParams.indexOf(':');
  const method = colon < 0 ? keyParams : keyParams.slice(0, colon);
  if (method !== 'inline') return fail(`unsupported key-method "${method}" (only inline)`);
  const parts = keyParams.slice(colon + 1).split('|');
  if (parts.length > 3) return fail('too many "|" fields in key-info');
  const keySalt = parts[0]!;
  if (!BASE64.test(keySalt) || keySalt.length === 0) return fail('key-salt is not valid base64');
  const bytes = Buffer.from(keySalt, 'base64');
  // RFC 4568 §6.2.1/§6.2.2: the base64-decoded key||salt of these suites is 30 octets (a 128-bit key and a
  // 112-bit salt); any other length makes the crypto attribute invalid.
  if (bytes.length !== KEY_SALT_LENGTH) {
    return fail(`key||salt is ${bytes.length} bytes, ${suite} needs ${KEY_SALT_LENGTH}`);
  }

  let lifetime: number | undefined;
  let mki: { value: number; length: number } | undefined;
  for (const part of parts.slice(1)) {
    // §9.2: lifetime = ["2^"] 1*(DIGIT); mki = mki-value ":" mki-length. The MKI is the one with a colon.
    if (part.includes(':')) {
      if (mki) return fail('two MKI fields');
      const m = /^([0-9]+):([0-9]{1,3})$/.exec(part);
      if (!m) return fail(`bad MKI "${part}"`);
      const length = Number(m[2]);
      const value = Number(m[1]);
      // §9.2: "mki-length = 1*3DIGIT ; range 1..128".
      if (length < 1 || length > 128) return fail(`MKI length ${length} out of range 1..128`);
      if (length > 4) return fail(`MKI length ${length} bytes is more than the 4 we support`);
      if (value >= 2 ** (8 * length)) return fail(`MKI value ${value} does not fit in ${length} bytes`);
      mki = { value, length };
    } else {
      if (lifetime !== undefined || mki) return fail(`bad key-info field "${part}"`);
      const m = /^(2\^)?([0-9]{1,15})$/.exec(part);
      if (!m) return fail(`bad lifetime "${part}"`);
      lifetime = m[1] ? 2 ** Number(m[2]) : Number(m[2]);
      if (lifetime > MAX_SUITE_LIFETIME) return fail(`lifetime ${part} exceeds the suite's maximum of 2^48`);
      if (lifetime < MIN_HONOURED_LIFETIME) {
        return fail(`lifetime ${part} is shorter than 2^20 packets and we do not re-key`);
      }
    }
  }

  for (const p of sessionParams) {
    const reason = sessionParamProblem(p);
    if (reason) return fail(reason);
  }

  return {
    ok: true,
    crypto: {
      tag: Number(tagText),
      suite,
      masterKey: bytes.subarray(0, MASTER_KEY_LENGTH),
      masterSalt: bytes.subarray(MASTER_KEY_LENGTH),
      ...(lifetime !== undefined ? { lifetime } : {}),
      ...(mki ? { mki } : {}),
      sessionParams,
    },
  };
}

/** Why a session parameter (RFC 4568 §6.3) cannot be honoured, or undefined when it can. */
function sessionParamProblem(p: string): string | undefined {
  // §6.3.6: "WSH=n" — a hint of the minimum replay window; ours is the RFC 3711 default of 64.
  const wsh = /^WSH=([0-9]+)$/.exec(p);
  if (wsh) return Number(wsh[1]) < 64 ? `WSH=${wsh[1]} is below the minimum of 64` : undefined;
  // §6.3.4: FEC_ORDER only matters with FEC, which we do not use.
  if (/^FEC_ORDER=(FEC_SRTP|SRTP_FEC)$/.test(p)) return undefined;
  if (/^KDR=/.test(p)) return `${p}: a key derivation rate other than 0 is not supported`;
  if (p === 'UNENCRYPTED_SRTP' || p === 'UNENCRYPTED_SRTCP' || p === 'UNAUTHENTICATED_SRTP') {
    return `${p} is not supported`;
  }
  if (/^FEC_KEY=/.test(p)) return 'FEC_KEY is not supported';
  return `unknown session parameter "${p}"`;
}

/**
 * RFC 4568 §7.1.2: the answerer picks one of the offered crypto attributes it supports, in the offerer's
 * order of preference — returns the first offer we can honour, and why those before it were passed over.
 */
export function chooseCrypto(
  offers: readonly string[],
): { readonly chosen: SdesCrypto | null; readonly rejected: readonly { line: string; reason: string }[] } {
  const rejected: { line: string; reason: string }[] = [];
  for (const line of offers) {
    const r = parseCrypto(line);
    if (r.ok) return { chosen: r.crypto, rejected };
    rejected.push({ line, reason: r.reason });
  }
  return { chosen: null, rejected };
}

/**
 * Our side of the exchange: the offer's tag and suite with a fresh random 30-byte key||salt (RFC 4568
 * §6.1 wants keys random, RFC 4086 strength: node's CSPRNG), no lifetime, no MKI, no session parameters.
 */
export function createCrypto(tag: number, suite: SrtpSuite): SdesCrypto {
  if (!Number.isInteger(tag) || tag < 0 || tag > 999_999_999) throw new TypeError(`bad crypto tag ${tag}`);
  if (!(suite in SRTP_SUITES)) throw new TypeError(`unsupported crypto-suite ${String(suite)}`);
  const bytes = randomBytes(KEY_SALT_LENGTH);
  return {
    tag,
    suite,
    masterKey: bytes.subarray(0, MASTER_KEY_LENGTH),
    masterSalt: bytes.subarray(MASTER_KEY_LENGTH),
    sessionParams: [],
  };
}

/** Formats the attribute value (what follows `a=crypto:`), e.g. `1 AES_CM_128_HMAC_SHA1_80 inline:...`. */
export function formatCrypto(c: SdesCrypto): string {
  let info = Buffer.concat([c.masterKey, c.masterSalt]).toString('base64');
  if (c.lifetime !== undefined) {
    const exp = Math.log2(c.lifetime);
    info += '|' + (Number.isInteger(exp) ? `2^${exp}` : String(c.lifetime));
  }
  if (c.mki) info += `|${c.mki.value}:${c.mki.length}`;
  return [String(c.tag), c.suite, `inline:${info}`, ...c.sessionParams].join(' ');
}

function fail(reason: string): SdesParseResult {
  return { ok: false, reason };
}
