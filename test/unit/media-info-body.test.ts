/**
 * Keys in SIP INFO bodies: application/dtmf-relay ("Signal=5\r\nDuration=160") and application/dtmf ("5").
 *
 * Covers: every key in both formats, CRLF and LF line ends, whitespace and case variations, Content-Type
 * parameters, numeric event codes 10-16 and "!" for flash, the Duration line, and the bodies and content
 * types that must give no key.
 * Does not cover: the INFO transaction and its response (sip/dialog), RFC 4733 events.
 */
import { describe, expect, it } from 'vitest';
import { parseDtmfInfoBody, parseDtmfRelayDuration } from '../../src/media/dtmf/info-body.js';

describe('application/dtmf-relay', () => {
  it('reads the Signal line of the usual body', () => {
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe('5');
  });

  it('reads every key', () => {
    for (const key of '0123456789*#ABCD') {
      expect(parseDtmfInfoBody('application/dtmf-relay', `Signal=${key}\r\nDuration=250`)).toBe(key);
    }
  });

  it('accepts LF line ends, spaces around "=", lower-case names and letters, and Duration first', () => {
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Duration= 100\nsignal = #\n')).toBe('#');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=b')).toBe('B');
  });

  it('ignores Content-Type case and parameters', () => {
    expect(parseDtmfInfoBody('Application/DTMF-Relay; charset=utf-8', 'Signal=7')).toBe('7');
  });

  it('maps numeric event codes 10-16 and "!" as some PBXs send them', () => {
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=10')).toBe('*');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=11')).toBe('#');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=15')).toBe('D');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=16')).toBe('flash');
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=!')).toBe('flash');
  });

  it('reads the Duration line in ms', () => {
    expect(parseDtmfRelayDuration('Signal=5\r\nDuration=160\r\n')).toBe(160);
    expect(parseDtmfRelayDuration('Signal=5\r\n')).toBeUndefined();
  });

  it('gives no key for a missing, empty or unknown Signal', () => {
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Duration=160')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=\r\n')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=E')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=17')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf-relay', 'Signal=55')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf-relay', '')).toBeUndefined();
  });
});

describe('application/dtmf', () => {
  it('reads a bare key, with or without a line end', () => {
    expect(parseDtmfInfoBody('application/dtmf', '5')).toBe('5');
    expect(parseDtmfInfoBody('application/dtmf', ' *\r\n')).toBe('*');
    expect(parseDtmfInfoBody('application/dtmf', '11')).toBe('#');
  });

  it('gives no key for anything else', () => {
    expect(parseDtmfInfoBody('application/dtmf', '')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf', '12a')).toBeUndefined();
    expect(parseDtmfInfoBody('application/dtmf', 'Signal=5')).toBeUndefined();
  });
});

describe('other content types', () => {
  it('gives no key for a body that is not DTMF', () => {
    expect(parseDtmfInfoBody('application/sdp', '5')).toBeUndefined();
    expect(parseDtmfInfoBody('text/plain', 'Signal=5')).toBeUndefined();
    expect(parseDtmfInfoBody('application/media_control+xml', '<x/>')).toBeUndefined();
  });
});
