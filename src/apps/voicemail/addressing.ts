/**
 * Which mailbox a voicemail call is for, picked from what the call layer read from the INVITE (call.parties,
 * src/call/parties.ts), in this order:
 *
 * 1. RFC 4458 target=: the user the network names outright.
 * 2. The redirects (Diversion, else History-Info): the most recent first, the number that sent the call here;
 *    `voicemail.diversion: original` takes them the other way round, the party the caller first dialled first.
 * 3. The dialled number, when it is not a voicemail pilot (the PBX addressed the mailbox directly, e.g.
 *    Asterisk's Dial(SIP/vmpilot/27000), or a DID alias).
 * Pilot numbers are never candidates. Numbers are looked up with store.findMailbox, which knows aliases (DID /
 * public forms). When a candidate has no mailbox, the next is tried (a forward through a hunt group or a DID
 * with no mailbox of its own still reaches the person behind it).
 *
 * A call to a pilot with none of the above is a log-in: with the mailbox when the caller's own number is a
 * mailbox (the "voicemail button"), without one otherwise.
 *
 * Not here: reading SIP (src/call/), what the caller hears (greeting.ts, deposit.ts).
 */
import type { CallParties, CallingParty, Redirect } from '../../call/parties.js';
import type { DepositReason, Mailbox } from '../../store/types.js';

/** Who is calling, as it will be stored with the message. */
export type Caller = CallingParty;

/** Where the mailbox number came from. */
export type AddressSource = Redirect['via'];

/** A number the call may be for, most likely first. */
export interface Candidate {
  number: string;
  reason: DepositReason;
  source: AddressSource;
}

export type CallTarget =
  /** Leave a message in `mailbox`. */
  | { kind: 'deposit'; mailbox: Mailbox; reason: DepositReason; source: AddressSource }
  /** A call to a pilot: log in; `mailbox` when the owner's own number is calling. */
  | { kind: 'login'; mailbox?: Mailbox }
  /** The call was diverted or addressed to numbers that are no mailbox. */
  | { kind: 'no-mailbox'; numbers: string[] };

export type Addressing = CallTarget & { caller: Caller };

export interface AddressingOptions {
  /** Voicemail pilot numbers. */
  pilots: readonly string[];
  /** voicemail.diversion */
  diversion: 'top' | 'original';
  findMailbox(numberOrAlias: string): Promise<Mailbox | undefined>;
}

/** Every number the call may be for, most likely first; [] for a plain call to a pilot. */
export function mailboxCandidates(parties: CallParties, pilots: readonly string[], mode: 'top' | 'original'): Candidate[] {
  const chain = mode === 'original' ? [...parties.redirects].reverse() : parties.redirects;
  const out: Candidate[] = [];
  for (const r of [...(parties.target ? [parties.target] : []), ...chain]) {
    if (pilots.includes(r.number) || out.some((c) => c.number === r.number)) continue;
    out.push({ number: r.number, reason: r.reason, source: r.via });
  }
  if (out.length > 0) return out;
  const dialled = parties.dialled;
  return dialled !== undefined && !pilots.includes(dialled) ? [{ number: dialled, reason: 'direct', source: 'request-uri' }] : [];
}

/** Looks the candidates up: who the call is for, and who is calling. */
export async function addressCall(parties: CallParties, options: AddressingOptions): Promise<Addressing> {
  const { caller } = parties;
  const candidates = mailboxCandidates(parties, options.pilots, options.diversion);
  for (const c of candidates) {
    const mailbox = await options.findMailbox(c.number);
    if (mailbox) return { kind: 'deposit', mailbox, reason: c.reason, source: c.source, caller };
  }
  if (candidates.length > 0) return { kind: 'no-mailbox', numbers: candidates.map((c) => c.number), caller };
  const own = caller.number !== '' ? await options.findMailbox(caller.number) : undefined;
  return own ? { kind: 'login', mailbox: own, caller } : { kind: 'login', caller };
}
