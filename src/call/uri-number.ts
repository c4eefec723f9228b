/**
 * The number a SIP or tel URI names, as routing and addressing compare numbers: the user part of a sip/sips
 * URI (a user=phone one read as a telephone-subscriber), the number of a tel URI, visual separators removed.
 */
import { uriUser, type Uri } from '../sip/uri.js';

export function uriNumber(uri: Uri | undefined): string | undefined {
  const user = uri ? uriUser(uri) : undefined;
  if (user === undefined) return undefined;
  // RFC 3966 §5.1.1 visual separators ("+1-555-0100") carry no meaning; PBXs also put them in plain sip user parts.
  const number = user.replace(/[-.()\s]/g, '');
  return number.length > 0 ? number : undefined;
}
