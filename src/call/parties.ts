/**
 * Who a call is for and who is calling, as typed data for apps (DESIGN.md: apps never see SIP messages).
 * The call layer reads the INVITE once (call.parties) and keeps the SIP below it:
 *
 *   dialled     the Request-URI's number: what the PBX addressed (a pilot, a mailbox number, a DID alias)
 *   target      RFC 4458 `target=`: the user the network says the call is for (whose voicemail), when it says so
 *   redirects   the numbers the call was for before it came here, most recent first, each with why it left:
 *               Diversion (RFC 5806) when the PBX sent it, else History-Info (RFC 7044) — redirects.ts
 *   caller      P-Asserted-Identity from a trusted PBX, else From; anonymous per RFC 3323 — calling-party.ts
 *
 * What to make of them (which mailbox, whether a pilot in the chain counts) is the app's choice.
 */
import { parseUri } from '../sip/uri.js';
import { uriNumber } from './uri-number.js';
import { callingParty, type CallingParty } from './calling-party.js';
import { redirectsOf, requestTarget } from './redirects.js';

export type { CallingParty } from './calling-party.js';

/** Why a call left a number (RFC 5806 diversion reasons and RFC 4458 causes, in one vocabulary). */
export type RedirectReason = 'busy' | 'no-answer' | 'unavailable' | 'unconditional' | 'forwarded' | 'other';

export interface Redirect {
  /** The number the call was for at this step (separators removed). */
  number: string;
  /** Why the call left it. */
  reason: RedirectReason;
  /** Which part of the INVITE said so. */
  via: 'diversion' | 'history-info' | 'request-uri';
}

export interface CallParties {
  /** The Request-URI's number; undefined when it has no user part. */
  dialled: string | undefined;
  /** RFC 4458 target= (History-Info's retargeting entry, else the Request-URI), with its cause as the reason. */
  target: Redirect | undefined;
  /** Earlier numbers the call was for, most recent first (the one that sent it here is [0]). */
  redirects: readonly Redirect[];
  caller: CallingParty;
}

/** The parts of an INVITE the parties are read from (a Call provides them; tests give literals). */
export interface InviteView {
  requestUri: string;
  /** Every value of a header, by any spelling of its name. */
  header(name: string): readonly string[];
}

/**
 * Reads the parties of an INVITE. `trustAssertedIdentity`: the INVITE came from a trusted PBX, so its
 * P-Asserted-Identity is believed (RFC 3325 §9.1: trust depends on where the request came from).
 */
export function partiesOf(invite: InviteView, trustAssertedIdentity: boolean): CallParties {
  const ruri = parseUri(invite.requestUri);
  const { redirects, target } = redirectsOf(invite.header('diversion'), invite.header('history-info'));
  return {
    dialled: uriNumber(ruri),
    target: target ?? requestTarget(ruri),
    redirects,
    caller: callingParty(invite, trustAssertedIdentity),
  };
}
