/**
 * Sending a request as a UAC and awaiting its final response, answering digest challenges (RFC 3261 §22.2,
 * RFC 8760) once per request: a 401/407 is retried with credentials and a new CSeq; a second challenge for
 * the same request (wrong password) is returned to the caller as it is.
 *
 * Timeouts and transport errors resolve as synthetic 408 and 503 responses (§8.1.3.1), so callers handle one
 * shape of outcome.
 */
import { createResponseMessage, type SipRequest, type SipResponse } from './message.js';
import { parseCSeq } from './headers/cseq.js';
import { buildAuthorization, chooseChallenge, type DigestCredentials } from './auth/digest.js';
import type { SendTarget } from './transport/types.js';
import type { SipStack } from './stack.js';

export interface UacOptions {
  credentials?: DigestCredentials;
  /** Called for each provisional response. */
  onProvisional?(res: SipResponse): void;
  /** Called with the new CSeq number when a challenge made us resend (a dialog must advance its local CSeq). */
  onAuthRetry?(seq: number): void;
}

export function sendUacRequest(stack: SipStack, req: SipRequest, target: SendTarget, opts: UacOptions = {}): Promise<SipResponse> {
  return new Promise((resolve) => {
    let challenged = false;
    const attempt = (request: SipRequest): void => {
      let settled = false;
      const finish = (res: SipResponse): void => {
        if (settled) return;
        settled = true;
        resolve(res);
      };
      stack.sendRequest(request, target, {
        onResponse: (res) => {
          if (res.status < 200) {
            opts.onProvisional?.(res);
            return;
          }
          if (settled) return;
          if ((res.status === 401 || res.status === 407) && opts.credentials && !challenged) {
            const retry = authorize(request, res, opts.credentials);
            if (retry) {
              opts.onAuthRetry?.(parseCSeq(retry.headers.get('cseq') ?? '')?.seq ?? 0);
              challenged = true;
              settled = true;
              attempt(retry);
              return;
            }
          }
          finish(res);
        },
        onTimeout: () => finish(synthetic(request, 408, 'Request Timeout')),
        onTransportError: () => finish(synthetic(request, 503, 'Transport Error')),
      });
    };
    attempt(req);
  });
}

/** The same request with credentials for the response's challenge and CSeq + 1 (§22.2), or undefined. */
function authorize(req: SipRequest, res: SipResponse, cred: DigestCredentials): SipRequest | undefined {
  const proxy = res.status === 407;
  const challenge = chooseChallenge(res.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate'));
  if (!challenge) return undefined;
  const headers = req.headers.clone();
  headers.delete('via');
  const cseq = parseCSeq(headers.get('cseq') ?? '');
  if (!cseq) return undefined;
  headers.set('cseq', `${cseq.seq + 1} ${cseq.method}`);
  headers.set(proxy ? 'proxy-authorization' : 'authorization', buildAuthorization(challenge, cred, req.method, req.uri, 1));
  return { ...req, headers };
}

function synthetic(req: SipRequest, status: number, reason: string): SipResponse {
  const res = createResponseMessage(status, reason);
  res.headers.set('call-id', req.headers.get('call-id') ?? '');
  res.headers.set('cseq', req.headers.get('cseq') ?? '');
  return res;
}
