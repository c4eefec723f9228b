/**
 * Digest credentials: building the Authorization / Proxy-Authorization value a UAC sends in answer to a
 * challenge (RFC 3261 §22.2, RFC 7616 §3.4), and reading one back (the UAS side, see verify.ts).
 */
import { randomBytes } from 'node:crypto';
import { quoteString } from '../headers/tokens.js';
import { parseAuthHeader } from './auth-params.js';
import type { DigestChallenge } from './challenge.js';
import { algorithmByName, digestResponse, type DigestAlgorithm } from './hash.js';

export interface DigestCredentials {
  username: string;
  password: string;
}

/**
 * The header value answering `ch` for a request with this method and Request-URI:
 * `Digest username="..",realm="..",nonce="..",uri="..",response="..",algorithm=..[,qop=auth,nc=..,cnonce=".."][,opaque=".."]`
 *
 * `nc` counts the requests sent with this nonce, from 1 (RFC 7616 §3.4: "the nonce count ... MUST be
 * specified if a qop parameter is sent"). `cnonce` is random when not given.
 *
 * Throws TypeError for a challenge parseChallenge would not have returned (qop without "auth", -sess without
 * qop) or an nc outside 1..2^32-1; a challenge from parseChallenge/chooseChallenge never throws.
 */
export function buildAuthorization(
  ch: DigestChallenge,
  cred: DigestCredentials,
  method: string,
  uri: string,
  nc: number,
  cnonce?: string,
): string {
  let qop: 'auth' | undefined;
  if (ch.qop !== undefined) {
    // RFC 7616 §3.4: qop "MUST be one of the alternatives the server indicated it supports".
    if (!ch.qop.includes('auth')) throw new TypeError(`cannot answer qop="${ch.qop.join(',')}": only "auth" is supported`);
    qop = 'auth';
  } else if (ch.algorithm.endsWith('-sess')) {
    throw new TypeError(`cannot answer ${ch.algorithm} without qop: there is no cnonce to send`);
  }
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new TypeError(`nc must be 1..4294967295, got ${nc}`);
  // RFC 7616 §3.4: nc is "the hexadecimal count ... represented as exactly 8 hexadecimal digits".
  const ncText = nc.toString(16).padStart(8, '0');
  // RFC 2617 §3.2.2: cnonce "MUST NOT be specified if the server did not send a qop directive".
  const cn = qop ? (cnonce ?? randomBytes(12).toString('hex')) : undefined;
  const response = digestResponse({
    algorithm: ch.algorithm,
    username: cred.username,
    realm: ch.realm,
    password: cred.password,
    method,
    uri,
    nonce: ch.nonce,
    qop,
    nc: qop ? ncText : undefined,
    cnonce: cn,
  });
  let out =
    `Digest username=${quoteString(cred.username)},realm=${quoteString(ch.realm)},nonce=${quoteString(ch.nonce)},` +
    `uri=${quoteString(uri)},response="${response}",algorithm=${ch.algorithm}`;
  if (qop) out += `,qop=${qop},nc=${ncText},cnonce=${quoteString(cn ?? '')}`;
  // RFC 7616 §3.4: opaque "MUST be returned by the client unchanged".
  if (ch.opaque !== undefined) out += `,opaque=${quoteString(ch.opaque)}`;
  return out;
}

/** The parameters of Digest credentials as received; strings unquoted. */
export interface DigestAuthorization {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  /** As sent, lower-case ("auth", "auth-int"); absent for the legacy form. */
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/**
 * The first Digest credentials in an Authorization / Proxy-Authorization value, or a reason they cannot be
 * read. Never throws.
 */
export function parseAuthorization(headerValue: string): DigestAuthorization | { error: string } {
  const text = parseAuthHeader(headerValue).find((c) => c.scheme.toLowerCase() === 'digest');
  if (!text) return { error: 'no Digest credentials' };
  const p = text.params;
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
    return { error: 'missing username, realm, nonce, uri or response' };
  }
  const algorithmText = p.get('algorithm');
  const algorithm = algorithmText === undefined ? 'MD5' : algorithmByName(algorithmText);
  if (!algorithm) return { error: `unsupported algorithm "${algorithmText}"` };
  const auth: DigestAuthorization = { username, realm, nonce, uri, response: response.toLowerCase(), algorithm };
  const qop = p.get('qop');
  if (qop !== undefined) {
    auth.qop = qop.toLowerCase();
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    // RFC 7616 §3.4: with qop, cnonce and nc MUST be sent; nc is exactly 8 hex digits.
    if (nc === undefined || cnonce === undefined) return { error: 'qop without nc or cnonce' };
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) return { error: `nc "${nc}" is not 8 hex digits` };
    auth.nc = nc;
    auth.cnonce = cnonce;
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) auth.opaque = opaque;
  return auth;
}
