/**
 * Supervised transfer, for PBXs that do not take REFER or where the site wants voicemail on busy or no answer
 * (issue 5): vmpilot places a new call to the target through the PBX, plays ringback to the caller while it
 * rings, and on answer connects the two legs by relaying their RTP inside vmpilot (media/relay.ts says why
 * relay rather than re-INVITE). When either side hangs up, the other is hung up.
 *
 * - Request-URI: `sip:<target>@<host:port of pbxUri>` with pbxUri's parameters (transport=...), so the PBX
 *   routes the number as it would any dialled extension.
 * - From: the ORIGINAL CALLER's identity (the caller's From as the PBX sent it, display name included) by
 *   default. The called phone then shows who is really calling, as after a receptionist's transfer, and if the
 *   PBX forwards the new call on busy or no answer (to its own voicemail, or back to ours), the message is
 *   left in the caller's name. `fromIdentity: 'pilot'` uses the attendant pilot's identity instead (the To of
 *   the original call), for PBXs that refuse a trunk From outside their own numbering.
 * - Outcome, from the new call's final status: 2xx answered; 486/600 busy; 408/480/487 and our own timeout
 *   (CANCEL, RFC 3261 §9.1) no-answer; 404/484/604 invalid; anything else failed (403, 488, 5xx, a
 *   challenge we could not answer, redirects exhausted). The caller hanging up while it rings CANCELs the new
 *   call and rejects with CallEndedError. Busy, no-answer and invalid are for the attendant to act on: the target's
 *   voicemail, or "not a valid extension".
 *
 * After 'answered' the legs stay connected until one hangs up; the app should not play or record on the call
 * any more (the relay, not the player, feeds the caller's stream) and may await call.whenEnded().
 * Which numbers may be dialled (toll-fraud guard) is the attendant's business, not this module's.
 */
import type { Logger } from 'pino';
import { CallEndedError, type Call } from './call.js';
import { OutgoingLeg } from './outgoing-leg.js';
import { MediaRelay } from '../media/relay.js';
import type { MediaSession } from '../media/session.js';
import type { DigestCredentials } from '../sip/auth/digest.js';
import { formatNameAddr, parseNameAddr } from '../sip/headers/name-addr.js';
import { formatUri, parseUri } from '../sip/uri.js';
import { calleeStatus } from '../sip/callee-status.js';

export type SupervisedTransferOutcome = 'answered' | 'busy' | 'no-answer' | 'failed' | 'invalid';

export interface SupervisedTransferResult {
  outcome: SupervisedTransferOutcome;
  /** The new call's final SIP status (487 after our CANCEL, 408 when nothing answered, 503 no RTP port). */
  status: number;
}

export interface SupervisedTransferOptions {
  /** Where the INVITE goes: the PBX, e.g. `sip:192.0.2.10:5060` or `sip:pbx.example.com;transport=tcp`. Required. */
  pbxUri: string;
  /** Ring this long before giving up (CANCEL), ms. Default 20 000. */
  timeoutMs?: number;
  /** Digest credentials for the PBX's 401/407 challenges. Default none. */
  credentials?: DigestCredentials;
  /** Whose identity the new call carries in From: 'caller' (default) or 'pilot' (see the module comment). */
  fromIdentity?: 'caller' | 'pilot';
  /** 3xx redirects followed at most. Default 3. */
  maxRedirects?: number;
  /**
   * After giving up (timeout, or the caller hung up), how long the final response to our CANCEL may take
   * before the outcome is reported without it, ms. A PBX that sent not even 100 Trying cannot be cancelled
   * (RFC 3261 §9.1) and would hold the caller until Timer B (64*T1, 32 s); the new call still ends by itself
   * behind the scenes. Default 4000.
   */
  cancelGraceMs?: number;
  logger: Logger;
}

/** Dialable: digits, letters, * # + and visual separators; nothing that could change the URI's meaning. */
const DIALABLE = /^[0-9A-Za-z*#+._-]{1,64}$/;

/** `sip:<target>@<pbx host:port>;<pbx params>`. TypeError for a target that is not dialable or a pbxUri that is not sip/sips. */
export function transferRequestUri(target: string, pbxUri: string): string {
  if (!DIALABLE.test(target)) throw new TypeError(`transfer target must be a dialable number, got ${JSON.stringify(target)}`);
  const pbx = parseUri(pbxUri);
  if (pbx === undefined || pbx.scheme === 'tel') throw new TypeError(`pbxUri must be a sip: or sips: URI, got ${JSON.stringify(pbxUri)}`);
  return formatUri({ scheme: pbx.scheme, user: target, host: pbx.host, port: pbx.port, params: pbx.params, headers: new Map() });
}

/** The outcome an attendant acts on, from the new call's final status. */
export function transferOutcome(status: number, timedOut: boolean): SupervisedTransferOutcome {
  const callee = calleeStatus(status);
  if (callee === 'answered') return 'answered';
  if (timedOut) return 'no-answer';
  return callee === 'other' ? 'failed' : callee;
}

/**
 * Calls `target` through the PBX, ringback to the caller meanwhile; connects the two on answer. Resolves once
 * the outcome is known (for 'answered': when the two are connected); never rejects for what the far end does.
 * Rejects with TypeError for a bad target or pbxUri, and with CallEndedError when the caller's call has ended
 * or ends before the two are connected (the new call is then cancelled or hung up).
 */
export async function supervisedTransfer(call: Call, target: string, opts: SupervisedTransferOptions): Promise<SupervisedTransferResult> {
  const requestUri = transferRequestUri(target, opts.pbxUri);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  const context = call.legContext();
  const callerMedia = call.mediaSession!; // present: legContext() threw if the call is not live
  const log = opts.logger.child({ callId: call.callId, transferTo: target });

  let leg: OutgoingLeg;
  try {
    leg = await OutgoingLeg.open({
      context,
      requestUri,
      from: fromIdentity(call, opts.fromIdentity ?? 'caller'),
      preferredCodec: callerMedia.sendCodec,
      credentials: opts.credentials,
      maxRedirects: opts.maxRedirects,
      logger: opts.logger,
    });
  } catch (err) {
    log.error({ err }, 'supervised transfer: no RTP port for the new call');
    return { outcome: 'failed', status: 503 };
  }
  if (call.ended) {
    leg.close();
    throw new CallEndedError(call.endReason ?? 'local-bye');
  }

  log.info({ requestUri, inviteCallId: leg.invite.callId }, 'supervised transfer: calling the target');
  const ringing = call.play([{ tone: 'ringback', ms: timeoutMs }], { bargeIn: false }).catch(() => undefined);
  let timedOut = false;
  let giveUp: (status: number) => void = () => undefined;
  const gaveUp = new Promise<{ status: number; reason: string; uri: string; answered: false }>((resolve) => {
    let graceTimer: NodeJS.Timeout | undefined;
    giveUp = (status) => {
      graceTimer ??= setTimeout(() => resolve({ status, reason: 'no final response to our CANCEL', uri: requestUri, answered: false }), opts.cancelGraceMs ?? 4000);
    };
    void leg.whenEnded().then(() => clearTimeout(graceTimer));
  });
  const timer = setTimeout(() => {
    timedOut = true;
    leg.cancel();
    giveUp(408);
  }, timeoutMs);
  const callerGone = (): void => {
    void leg.hangup();
    giveUp(487);
  };
  call.once('hangup', callerGone);
  const result = await Promise.race([leg.start(), gaveUp]);
  clearTimeout(timer);

  if (!result.answered || call.ended) {
    call.off('hangup', callerGone);
    if (result.answered) await leg.hangup(); // the caller left just as the target answered
    leg.close();
    call.stopPlaying();
    await ringing;
    // Keys pressed while it rang answer no prompt: they must not choose from the attendant's next menu.
    call.flushDigits();
    if (call.ended) {
      log.info({ status: result.status, uri: result.uri }, 'supervised transfer: the caller hung up first');
      throw new CallEndedError(call.endReason ?? 'local-bye');
    }
    const outcome = transferOutcome(result.status, timedOut);
    log.info({ outcome, status: result.status, uri: result.uri }, 'supervised transfer: not connected');
    return { outcome, status: result.status };
  }
  connect(call, callerMedia, leg, log);
  log.info({ status: result.status, uri: result.uri, codecs: [callerMedia.sendCodec, leg.media.sendCodec] }, 'supervised transfer: connected');
  return { outcome: 'answered', status: result.status };
}

/** Relays the two legs' media until one hangs up, then hangs up the other. */
function connect(call: Call, callerMedia: MediaSession, leg: OutgoingLeg, log: Logger): void {
  const relay = new MediaRelay(callerMedia, leg.media);
  relay.start();
  // After the relay took the caller's stream: the ringback play resolves 'stopped' and is heard no more.
  call.stopPlaying();
  let over = false;
  const finish = (why: string): void => {
    if (over) return;
    over = true;
    relay.stop();
    log.info({ why, relay: relay.stats() }, 'supervised transfer: call over');
  };
  // The 'hangup' listener from the ringing phase stays: it sends the target our BYE.
  call.once('hangup', () => finish('caller hung up'));
  void leg.whenEnded().then((reason) => {
    finish(`target side: ${reason}`);
    if (!call.ended) void call.hangup();
  });
}

/** The From of the new call (see the module comment), without tag. */
function fromIdentity(call: Call, which: 'caller' | 'pilot'): string {
  const value = which === 'pilot' ? call.toHeader : call.fromHeader;
  const parsed = parseNameAddr(value ?? '');
  if (!parsed) return `<${call.requestUri}>`;
  parsed.params.delete('tag');
  return formatNameAddr(parsed);
}
