/**
 * Which configured PBX a source address belongs to (config.pbx[].addresses, addresses or CIDR blocks).
 * The server uses it for trust-dependent call settings and credentials; the MWI service for the credentials
 * its NOTIFYs answer challenges with.
 */
import { AddressMatcher } from '../sip/trust.js';
import type { PbxConfig } from './schema.js';

/** Builds the look-up once (the matchers parse every entry); the first PBX whose addresses match wins. */
export function pbxLookup(pbx: readonly PbxConfig[]): (address: string) => PbxConfig | undefined {
  const matchers = pbx.map((p) => ({ matcher: new AddressMatcher(p.addresses), pbx: p }));
  return (address) => matchers.find((p) => p.matcher.matches(address))?.pbx;
}
