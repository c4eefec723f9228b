/**
 * Who is calling, from the INVITE: P-Asserted-Identity (RFC 3325) when the call came from a trusted PBX, else
 * From; anonymous callers (RFC 3323 Privacy, RFC 3261 §8.1.1.3's anonymous@anonymous.invalid, "Anonymous"
 * and its vendor spellings) have no number and no name.
 */
import { parseNameAddr, type NameAddr } from '../sip/headers/name-addr.js';
import { listElements } from '../sip/headers/tokens.js';
import { parseUri, uriUser, type Uri } from '../sip/uri.js';
import type { InviteView } from './parties.js';
import { uriNumber } from './uri-number.js';

export interface CallingParty {
  /** The number (user part of a sip URI, a tel number); '' when anonymous or unknown. */
  number: string;
  /** The display name; '' when none or anonymous. */
  name: string;
  /** Taken from a trusted PBX's P-Asserted-Identity (else from From, which the caller's side may set at will). */
  asserted: boolean;
  anonymous: boolean;
}

const ANONYMOUS_USERS = new Set(['anonymous', 'restricted', 'unknown', 'unavailable', 'private', 'withheld']);
const ANONYMOUS_NAMES = new Set([...ANONYMOUS_USERS, 'anonymous caller', 'unknown caller', 'private number', 'withheld number']);

/** RFC 3323 §4.2: priv-value "header", "user" or "id" ask that the caller's identity not be shown. */
function privacyRequested(values: readonly string[]): boolean {
  for (const value of values) {
    for (const token of value.split(/[;,]/)) {
      const t = token.trim().toLowerCase();
      if (t === 'id' || t === 'user' || t === 'header') return true;
    }
  }
  return false;
}

/** No number to show: an anonymous URI, or one we cannot read (treated alike: the message is from ''). */
function anonymousUri(uri: Uri | undefined): boolean {
  if (!uri) return true;
  // RFC 3261 §8.1.1.3: "the From field SHOULD contain ... sip:anonymous@anonymous.invalid".
  if (uri.scheme !== 'tel' && uri.host === 'anonymous.invalid') return true;
  const user = uriUser(uri);
  return user === undefined || user.length === 0 || ANONYMOUS_USERS.has(user.toLowerCase());
}

function anonymous(asserted: boolean): CallingParty {
  return { number: '', name: '', asserted, anonymous: true };
}

function partyFrom(entry: NameAddr, asserted: boolean): CallingParty {
  const uri = parseUri(entry.uri);
  if (anonymousUri(uri)) return anonymous(asserted);
  const raw = (entry.displayName ?? '').trim();
  const name = ANONYMOUS_NAMES.has(raw.toLowerCase()) ? '' : raw;
  return { number: uriNumber(uri) ?? '', name, asserted, anonymous: false };
}

/**
 * The caller. RFC 3325 §9.1: P-Asserted-Identity holds one or two values (a sip/sips URI and a tel URI);
 * the first with a number gives it, a display name from either. Used only from a trusted PBX; otherwise, or
 * when it names nobody, From.
 */
export function callingParty(invite: InviteView, trustAssertedIdentity: boolean): CallingParty {
  if (privacyRequested(invite.header('privacy'))) return anonymous(false);
  if (trustAssertedIdentity) {
    const asserted = listElements(invite.header('p-asserted-identity'))
      .map((v) => parseNameAddr(v))
      .filter((e): e is NameAddr => e !== undefined)
      .map((e) => partyFrom(e, true));
    const withNumber = asserted.find((c) => c.number !== '');
    if (withNumber) return { ...withNumber, name: withNumber.name || (asserted.find((c) => c.name !== '')?.name ?? '') };
    if (asserted.length > 0 && asserted.every((c) => c.anonymous)) return anonymous(true);
  }
  const from = invite.header('from')[0];
  const entry = from !== undefined ? parseNameAddr(from) : undefined;
  return entry ? partyFrom(entry, false) : anonymous(false);
}
