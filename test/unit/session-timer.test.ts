/**
 * RFC 4028 negotiation as the UAS does it (session-timer.ts): interval, refresher and the 2xx headers.
 * Covers §9 rules: 422 below our Min-SE, the refresher the UAC asked for, uas when the UAC lacks timer
 * support, Require: timer only when the UAC refreshes, and the §10 expiry margin.
 * Does not cover: sending refreshes and BYE on expiry (integration tests).
 */
import { describe, expect, it } from 'vitest';
import { Headers, createRequest } from '../../src/sip/message.js';
import { expiryMs, negotiateSessionTimer, refreshMs, sessionTimerHeaders } from '../../src/sip/session-timer.js';

function invite(headers: Record<string, string>) {
  const h = new Headers();
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  return createRequest('INVITE', 'sip:8000@127.0.0.1', h);
}

describe('session timer negotiation (RFC 4028 §9)', () => {
  it('MUST reject a Session-Expires below our Min-SE with 422 carrying Min-SE', () => {
    expect(negotiateSessionTimer(invite({ supported: 'timer', 'session-expires': '60' }), 1800, 90)).toEqual({ ok: false, status: 422, minSeS: 90 });
  });

  it('keeps the interval and refresher the UAC asked for', () => {
    const out = negotiateSessionTimer(invite({ supported: 'timer', 'session-expires': '600;refresher=uas' }), 1800, 90);
    expect(out).toEqual({ ok: true, timer: { intervalS: 600, refresher: 'uas' } });
  });

  it('makes the UAC the refresher when it supports timers and did not choose', () => {
    const out = negotiateSessionTimer(invite({ supported: '100rel, timer', 'session-expires': '900' }), 1800, 90);
    expect(out).toEqual({ ok: true, timer: { intervalS: 900, refresher: 'uac' } });
    if (out.ok) expect(sessionTimerHeaders(out.timer)).toEqual({ 'session-expires': '900;refresher=uac', require: 'timer' });
  });

  it('refreshes itself (refresher=uas, no Require) when the UAC does not support timers', () => {
    const out = negotiateSessionTimer(invite({}), 1800, 90);
    expect(out).toEqual({ ok: true, timer: { intervalS: 1800, refresher: 'uas' } });
    if (out.ok) expect(sessionTimerHeaders(out.timer)).toEqual({ 'session-expires': '1800;refresher=uas' });
  });

  it('honours a Min-SE from the UAC larger than our preference', () => {
    const out = negotiateSessionTimer(invite({ supported: 'timer', 'min-se': '3600' }), 1800, 90);
    expect(out.ok && out.timer.intervalS).toBe(3600);
  });

  it('gives up at interval minus min(32 s, interval/3) and refreshes at half the interval (§10, §7.2)', () => {
    expect(expiryMs({ intervalS: 1800, refresher: 'uac' })).toBe(1768_000);
    expect(expiryMs({ intervalS: 90, refresher: 'uac' })).toBe(60_000);
    expect(refreshMs({ intervalS: 1800, refresher: 'uas' })).toBe(900_000);
  });
});
