/**
 * Admin API tokens (http.tokens): a token is 32 random bytes in base64url behind a "vmp_" prefix (so a leaked
 * one is easy to grep for); the config holds only "sha256:<hex>" of it. A plain SHA-256 is enough here, unlike
 * for PINs: the secret has 256 bits of entropy, so there is nothing to guess a dictionary from, and a fast
 * hash keeps every request's check cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpTokenConfig } from '../config/schema.js';

const PREFIX = 'vmp_';

/** A new token, never stored: the operator keeps it, the config keeps its hash. */
export function newToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** The config's form of a token: "sha256:" and the hex digest. */
export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/**
 * The kinds of caller a route may accept (auth.ts): an API token, a mailbox owner's web session, a signed
 * media link (made for a token's holder, opening one audio path).
 */
export type PrincipalKind = 'token' | 'owner' | 'media-link';

/** Who a request is made by (request.principal). */
export interface Principal {
  kind: PrincipalKind;
  /** The token's name (http.tokens[].name; for a media link, the token that asked for it), or the mailbox number of a signed-in owner. */
  name: string;
}

/** The configured tokens, checked in constant time per entry (no early exit on the first differing byte). */
export class TokenTable {
  private readonly entries: { name: string; digest: Buffer }[];

  constructor(tokens: readonly HttpTokenConfig[]) {
    this.entries = tokens.map((t) => ({ name: t.name, digest: Buffer.from(t.hash.slice('sha256:'.length), 'hex') }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The token's name, or undefined for a token not in the config. */
  nameOf(token: string): string | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, digest) && found === undefined) found = e.name;
    return found;
  }
}
