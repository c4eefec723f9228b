/**
 * referTarget (src/call/transfer.ts): the Refer-To URI of a blind transfer, from the number the attendant
 * chose and the dialog's remote target (the PBX's Contact, a bare URI).
 *
 * Covers: the number on the PBX's host and port; the PBX's transport kept (udp, tcp, and tls with sips);
 * user=phone kept for a telephone number when the PBX marks its own URIs so, and not for a non-number; the
 * PBX contact's own parameters (ob, lr, gr, line) dropped; a full sip:/tel: target used as given; characters a
 * user part must escape.
 * Does not cover: the REFER on the wire (test/integration/attendant.test.ts, SIPp checks the Refer-To).
 */
import { describe, expect, it } from 'vitest';
import { referTarget } from '../../src/call/transfer.js';

describe('referTarget', () => {
  it('puts the number on the PBX host and port', () => {
    expect(referTarget('2001', 'sip:pbx@192.0.2.10:5060')).toBe('sip:2001@192.0.2.10:5060');
  });

  it.each([
    ['sip:pbx@192.0.2.10:5060;transport=udp', 'sip:2001@192.0.2.10:5060;transport=udp'],
    ['sip:pbx@192.0.2.10:5060;transport=TCP', 'sip:2001@192.0.2.10:5060;transport=TCP'],
    ['sips:pbx@pbx.example.com:5061;transport=tls', 'sips:2001@pbx.example.com:5061;transport=tls'],
    ['sip:pbx@[2001:db8::1]:5070;transport=tcp', 'sip:2001@[2001:db8::1]:5070;transport=tcp'],
  ])('keeps the scheme and transport of %s', (contact, expected) => {
    expect(referTarget('2001', contact)).toBe(expected);
  });

  it("drops the PBX contact's own parameters (ob, lr, gr, line) but keeps the transport", () => {
    expect(referTarget('2001', 'sip:pbx@192.0.2.10;ob;lr;gr=urn:uuid:1;line=abc;transport=tcp')).toBe('sip:2001@192.0.2.10;transport=tcp');
  });

  it('keeps user=phone for a telephone number when the PBX marks its own URIs so', () => {
    expect(referTarget('+46812345', 'sip:+4681000@gw.example.com;user=phone;transport=tcp')).toBe('sip:+46812345@gw.example.com;transport=tcp;user=phone');
    expect(referTarget('2001', 'sip:pbx@gw.example.com')).toBe('sip:2001@gw.example.com');
    expect(referTarget('sales-desk', 'sip:+4681000@gw.example.com;user=phone')).toBe('sip:sales-desk@gw.example.com');
  });

  it('escapes # in the user part and keeps * (dial strings)', () => {
    expect(referTarget('*72#', 'sip:pbx@192.0.2.10')).toBe('sip:*72%23@192.0.2.10');
  });

  it('uses a full sip:, sips: or tel: target as given', () => {
    expect(referTarget('sip:alice@example.com;transport=tls', 'sip:pbx@192.0.2.10;transport=udp')).toBe('sip:alice@example.com;transport=tls');
    expect(referTarget('tel:+46812345', 'sip:pbx@192.0.2.10')).toBe('tel:+46812345');
  });
});
