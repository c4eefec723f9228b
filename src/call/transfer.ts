/**
 * Blind transfer by REFER (RFC 3515): asks the PBX to call `target` and replace us in the call, then follows
 * the implicit subscription's NOTIFYs (message/sipfrag, RFC 3420) until the transfer's final status.
 *
 * - Refer-To is built on the PBX's host (the dialog's remote target), so "2001" means extension 2001 on the
 *   PBX that sent the call, reached as the PBX is (scheme, port, transport). A full sip:/sips:/tel: URI is
 *   used as given.
 * - Referred-By (RFC 3892) names us, so the PBX can show who transferred.
 * - Success is a 2xx in the sipfrag; the PBX then ends our leg with BYE (RFC 5589 §6.1), and if it does not
 *   we hang up ourselves. Failure: the REFER refused, a non-2xx sipfrag, the subscription terminated without
 *   a final status, or no final status within `timeoutMs`: the caller is still with us and the app decides.
 *
 * Which numbers an app may transfer to (toll-fraud guard) is the attendant's business (issue 5), not this
 * module's.
 */
import type { IncomingRequest } from '../sip/incoming-request.js';
import type { InviteSession } from '../sip/invite-session.js';
import { parseNameAddr } from '../sip/headers/name-addr.js';
import { formatUri, parseUri } from '../sip/uri.js';

export interface TransferResult {
  ok: boolean;
  /** The final SIP status of the transfer (from the sipfrag or the REFER's response); 0 when none came. */
  status: number;
  /** Why it failed, in words for the log. */
  reason: string;
}

export interface TransferOptions {
  /** Longest wait for the final NOTIFY, ms. Default 32 000 (64*T1: a transaction's life). */
  timeoutMs?: number;
}

/**
 * URI parameters of the PBX's address that the Refer-To keeps. `transport` says how the PBX is reached (a PBX
 * that listens on TCP or TLS only may not take the call it is referred to over UDP, RFC 3261 §19.1.1); the
 * scheme (sips) is kept for the same reason. Others (lr, ob, gr, maddr, line, ...) name the PBX's own contact,
 * not the number on it, and are dropped.
 */
const KEPT_PARAMS = ['transport'] as const;

/** A telephone-subscriber user part (RFC 3261 §19.1.1, RFC 3966): digits, * and #, optionally after +. */
const TELEPHONE_USER = /^\+?[0-9*#]+$/;

/**
 * Builds the Refer-To URI: a number on the PBX's host, or a URI as given. The number takes the scheme, host,
 * port and transport of the PBX's remote target, and user=phone when the PBX marks its own numbers so
 * (§19.1.1: the user part is then a telephone number; some PBXs route only such URIs to their trunks).
 */
export function referTarget(target: string, remoteTarget: string): string {
  if (/^(sips?|tel):/i.test(target)) return target;
  // The remote target is a bare URI (Dialog.remoteTarget): read as a name-addr, its ;params would be taken as
  // header parameters and lost (§20.10).
  const remote = parseUri(remoteTarget);
  if (remote === undefined || remote.scheme === 'tel') return formatUri({ scheme: 'sip', user: target, host: 'invalid', params: new Map(), headers: new Map() });
  const params = new Map<string, string | null>();
  for (const name of KEPT_PARAMS) {
    const value = remote.params.get(name);
    if (value !== undefined) params.set(name, value);
  }
  if (remote.params.get('user') === 'phone' && TELEPHONE_USER.test(target)) params.set('user', 'phone');
  return formatUri({ scheme: remote.scheme, user: target, host: remote.host, port: remote.port, params, headers: new Map() });
}

/** The status line of a message/sipfrag body ("SIP/2.0 200 OK"), or undefined. */
export function sipfragStatus(body: string): number | undefined {
  const m = /^SIP\/2\.0[ \t]+(\d{3})\b/.exec(body.trimStart());
  return m ? Number(m[1]) : undefined;
}

/**
 * Sends the REFER and follows its NOTIFYs. `subscribe` installs the NOTIFY listener for the duration (the
 * Call routes the dialog's NOTIFYs to it) and returns an uninstall function; `ended` resolves if the call
 * ends meanwhile.
 */
export async function blindTransfer(
  session: InviteSession,
  target: string,
  subscribe: (onNotify: (req: IncomingRequest) => void) => () => void,
  ended: Promise<void>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const referTo = referTarget(target, session.dialog.remoteTarget);
  let finish: (r: TransferResult) => void = () => undefined;
  const outcome = new Promise<TransferResult>((resolve) => {
    finish = resolve;
  });
  const unsubscribe = subscribe((req) => {
    if (!/^refer\b/i.test(req.message.headers.get('event') ?? '')) return;
    const status = sipfragStatus(req.message.body.toString('utf8'));
    const state = (req.message.headers.get('subscription-state') ?? '').toLowerCase();
    if (status !== undefined && status >= 200) {
      finish(status < 300 ? { ok: true, status, reason: 'transferred' } : { ok: false, status, reason: `target answered ${status}` });
    } else if (state.startsWith('terminated')) {
      finish({ ok: false, status: status ?? 0, reason: 'subscription terminated without a final status' });
    }
  });
  const timer = setTimeout(() => finish({ ok: false, status: 0, reason: 'no final NOTIFY in time' }), options.timeoutMs ?? 32_000);
  void ended.then(() => finish({ ok: false, status: 0, reason: 'call ended' }));
  try {
    const response = await Promise.race([
      session.request('REFER', undefined, { 'refer-to': `<${referTo}>`, 'referred-by': `<${parseNameAddr(session.dialog.localUri)?.uri ?? session.dialog.localUri}>` }),
      outcome.then(() => undefined),
    ]);
    if (response !== undefined && response.status >= 300) {
      finish({ ok: false, status: response.status, reason: `REFER refused with ${response.status}` });
    }
    return await outcome;
  } catch (err) {
    return { ok: false, status: 0, reason: `REFER failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}
