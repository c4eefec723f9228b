/**
 * A new call record's fixed part, read from the INVITE: who calls, who the call is for, the number dialled.
 * The same for answered and rejected calls (a rejected INVITE never becomes a Call).
 */
import type { IncomingRequest } from '../sip/incoming-request.js';
import { partiesOf } from '../call/parties.js';
import { CallRecordDraft } from '../call/call-record.js';

/**
 * `trusted`: the INVITE came from a trusted PBX, whose P-Asserted-Identity names the caller (as for the Call).
 * `app`: the service that takes it, '' when none does.
 */
export function draftCallRecord(request: IncomingRequest, opts: { trusted: boolean; app: string; worker?: number }): CallRecordDraft {
  const invite = request.message;
  const parties = partiesOf({ requestUri: invite.uri, header: (name) => invite.headers.getAll(name) }, opts.trusted);
  const pilot = parties.dialled ?? '';
  return new CallRecordDraft({
    callId: request.callId,
    from: parties.caller.number,
    // The number the call was forwarded from (Diversion/History-Info) is whom it was for; else the one dialled.
    to: parties.redirects[0]?.number ?? pilot,
    pilot,
    app: opts.app,
    ...(opts.worker !== undefined && { worker: opts.worker }),
  });
}
