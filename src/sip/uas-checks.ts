/**
 * The checks RFC 3261 §8.2 asks of every UAS (a redirect server too, §8.3) before it looks at what a request
 * asks for, after method inspection: Max-Forwards, merged requests, Require. Shared by the UA core and the
 * cluster's 302 front door.
 */
import type { IncomingRequest } from './incoming-request.js';
import type { SipStack } from './stack.js';
import { listElements } from './headers/tokens.js';

/** Option tags we understand in Require (§8.2.2.3). */
const SUPPORTED_EXTENSIONS = new Set(['timer']);

/** Answers the request with the error it earns and returns true, or returns false when it passed. */
export function failsUasChecks(stack: SipStack, inc: IncomingRequest): boolean {
  const headers = inc.message.headers;
  // Max-Forwards 0 → 483 (§16.3 step 2 as applied by a UAS that will not serve it). OPTIONS with 0 is the
  // classic "ask the next hop itself" probe (§11) and PBX keep-alives use it, so it is answered.
  const maxForwards = headers.get('max-forwards');
  if (maxForwards !== undefined && Number(maxForwards) === 0 && inc.method !== 'OPTIONS') {
    inc.respond(483);
    return true;
  }
  // §8.2.2.2: merged requests.
  if (stack.isMergedRequest(inc)) {
    inc.respond(482);
    return true;
  }
  // §8.2.2.3: Require with option tags we do not understand.
  const unsupported = listElements(headers.getAll('require')).filter((t) => !SUPPORTED_EXTENSIONS.has(t.toLowerCase()));
  if (unsupported.length > 0) {
    inc.respond(420, { headers: { unsupported: unsupported.join(', ') } });
    return true;
  }
  return false;
}
