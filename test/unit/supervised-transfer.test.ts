/**
 * The pure parts of supervised transfer (src/call/supervised-transfer.ts): the Request-URI of the new call
 * and the outcome an attendant acts on for each final status.
 *
 * Covers: the number placed in the PBX URI's user part with the PBX's host, port and parameters kept ("#"
 * escaped); targets that could change the URI's meaning and non-SIP PBX URIs refused with TypeError; the
 * status → outcome table (busy 486/600, no-answer 408/480/487 and our timeout, invalid 404/484/604,
 * answered 2xx, failed otherwise).
 * Does not cover: the call flow itself (test/integration/supervised-transfer.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { transferOutcome, transferRequestUri } from '../../src/call/supervised-transfer.js';

describe('transferRequestUri', () => {
  it('puts the number at the PBX address, keeping its port and transport', () => {
    expect(transferRequestUri('2001', 'sip:192.0.2.10:5060')).toBe('sip:2001@192.0.2.10:5060');
    expect(transferRequestUri('2001', 'sip:pbx.example.com;transport=tcp')).toBe('sip:2001@pbx.example.com;transport=tcp');
    expect(transferRequestUri('*21#', 'sips:[2001:db8::1]:5061')).toBe('sips:*21%23@[2001:db8::1]:5061');
  });

  it('refuses a target that is not a dialable number, and a PBX URI that is not sip/sips', () => {
    for (const bad of ['', '2001@evil.example', 'sip:2001@x', '20 01', '2001;maddr=10.0.0.1', '2001>']) {
      expect(() => transferRequestUri(bad, 'sip:192.0.2.10')).toThrow(TypeError);
    }
    expect(() => transferRequestUri('2001', 'tel:+15550100')).toThrow(TypeError);
    expect(() => transferRequestUri('2001', 'http://pbx')).toThrow(TypeError);
  });
});

describe('transferOutcome', () => {
  it.each([
    [200, 'answered'],
    [486, 'busy'],
    [600, 'busy'],
    [408, 'no-answer'],
    [480, 'no-answer'],
    [487, 'no-answer'],
    [404, 'invalid'],
    [484, 'invalid'],
    [604, 'invalid'],
    [403, 'failed'],
    [488, 'failed'],
    [503, 'failed'],
    [302, 'failed'],
    [407, 'failed'],
  ] as const)('%i → %s', (status, outcome) => {
    expect(transferOutcome(status, false)).toBe(outcome);
  });

  it("is 'no-answer' whatever the status once our own timeout cancelled the call", () => {
    expect(transferOutcome(487, true)).toBe('no-answer');
    expect(transferOutcome(503, true)).toBe('no-answer');
  });
});
