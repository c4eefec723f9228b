/**
 * What a final status (or an RFC 4458 `cause` carrying one) says about the party that was called. One table
 * for everything that reacts to it: voicemail greetings (busy vs unavailable) and attendant transfers (busy or
 * no answer → that extension's voicemail; invalid → "not a valid extension").
 *
 * RFC 3261 §21: 486 Busy Here / 600 Busy Everywhere; 408 Request Timeout / 480 Temporarily Unavailable /
 * 487 Request Terminated (our CANCEL after ringing) are no answer; 404 Not Found / 484 Address Incomplete /
 * 604 Does Not Exist Anywhere mean the number is wrong.
 */
export type CalleeStatus = 'answered' | 'busy' | 'no-answer' | 'invalid' | 'other';

export function calleeStatus(status: number): CalleeStatus {
  if (status >= 200 && status < 300) return 'answered';
  switch (status) {
    case 486:
    case 600:
      return 'busy';
    case 408:
    case 480:
    case 487:
      return 'no-answer';
    case 404:
    case 484:
    case 604:
      return 'invalid';
    default:
      return 'other';
  }
}
