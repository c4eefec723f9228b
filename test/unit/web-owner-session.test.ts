/*
 * The web voicemail's session pieces (src/http/web/): the session table (owner-sessions.ts), the session
 * cookie (owner-cookie.ts) and the <audio> elements' signed links (media-links.ts).
 *
 * Covers: ids are random and unguessable in form (32 bytes); a session ends after its idle time, is renewed by
 * use up to its absolute limit and no further; sign-out and the end of a mailbox's sessions; the table drops
 * its oldest past its bound; the cookie's attributes with and without TLS (HttpOnly, SameSite=Strict, Secure
 * and __Host- only with TLS) and reading it back among other cookies; a link opens its own path for its
 * holder until it expires, and no other path, holder or expiry.
 *
 * Does not cover: the HTTP routes that use them (test/integration/web-admin.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { OwnerSessions } from '../../src/http/web/owner-sessions.js';
import { clearedCookie, sessionCookie, sessionIdFrom } from '../../src/http/web/owner-cookie.js';
import { MediaLinks } from '../../src/http/web/media-links.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('OwnerSessions', () => {
  it('gives each session a distinct 32-byte random id scoped to its mailbox', () => {
    const sessions = new OwnerSessions();
    const a = sessions.create('27000');
    const b = sessions.create('27000');
    expect(a.id).not.toBe(b.id);
    expect(Buffer.from(a.id, 'base64url')).toHaveLength(32);
    expect(sessions.use(a.id)?.mailbox).toBe('27000');
  });

  it('ends a session left idle, and renews one in use up to its absolute limit only', () => {
    const c = clock();
    const sessions = new OwnerSessions({ idleMs: 1000, maxAgeMs: 2500, now: c.now });
    const idle = sessions.create('27000');
    const busy = sessions.create('27001');
    c.advance(900);
    expect(sessions.use(busy.id)).toBeDefined();
    c.advance(900);
    expect(sessions.use(idle.id)).toBeUndefined();
    expect(sessions.use(busy.id)).toBeDefined();
    c.advance(600); // 2400 ms after sign-in, used every 900 ms
    expect(sessions.use(busy.id)).toBeDefined();
    c.advance(200); // past 2500 ms: however busy
    expect(sessions.use(busy.id)).toBeUndefined();
  });

  it('signs out one session, or every session of a mailbox', () => {
    const sessions = new OwnerSessions();
    const a = sessions.create('27000');
    const b = sessions.create('27000');
    const other = sessions.create('27001');
    sessions.end(a.id);
    expect(sessions.use(a.id)).toBeUndefined();
    sessions.endMailbox('27000');
    expect(sessions.use(b.id)).toBeUndefined();
    expect(sessions.use(other.id)).toBeDefined();
    expect(sessions.use(undefined)).toBeUndefined();
    expect(sessions.use('not-a-session')).toBeUndefined();
  });

  it('keeps at most `max` sessions, dropping the oldest first', () => {
    const sessions = new OwnerSessions({ max: 3 });
    const ids = ['1', '2', '3', '4'].map((n) => sessions.create(n).id);
    expect(sessions.size).toBe(3);
    expect(sessions.use(ids[0])).toBeUndefined();
    expect(sessions.use(ids[3])).toBeDefined();
  });
});

describe('the session cookie', () => {
  it('is HttpOnly and SameSite=Strict, Secure with the __Host- prefix only over TLS', () => {
    expect(sessionCookie('abc', 3_600_000, false)).toBe('vmpilot-owner=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict');
    expect(sessionCookie('abc', 3_600_000, true)).toBe('__Host-vmpilot-owner=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure');
    expect(clearedCookie(false)).toBe('vmpilot-owner=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
  });

  it('is read back from among other cookies, under the name its transport uses', () => {
    expect(sessionIdFrom('a=1; vmpilot-owner=xyz; b=2', false)).toBe('xyz');
    expect(sessionIdFrom('a=1; vmpilot-owner=xyz', true)).toBeUndefined();
    expect(sessionIdFrom('__Host-vmpilot-owner=s3c; vmpilot-owner=plain', true)).toBe('s3c');
    expect(sessionIdFrom('vmpilot-owner=', false)).toBeUndefined();
    expect(sessionIdFrom('garbage;;=;', false)).toBeUndefined();
    expect(sessionIdFrom(undefined, false)).toBeUndefined();
  });
});

describe('MediaLinks', () => {
  const query = (url: string): Record<string, string> => Object.fromEntries(new URL(url, 'http://x').searchParams);

  it("opens the signed path for the link's holder until it expires", () => {
    const c = clock();
    const links = new MediaLinks(60_000, c.now);
    const url = links.sign('/api/messages/m1/audio', 'ops');
    expect(url.startsWith('/api/messages/m1/audio?')).toBe(true);
    expect(links.verify('/api/messages/m1/audio', query(url))).toBe('ops');
    c.advance(60_000);
    expect(links.verify('/api/messages/m1/audio', query(url))).toBeUndefined();
  });

  it('opens no other path, and no changed holder, expiry or signature', () => {
    const links = new MediaLinks();
    const q = query(links.sign('/api/messages/m1/audio', 'ops'));
    expect(links.verify('/api/messages/m2/audio', q)).toBeUndefined();
    expect(links.verify('/api/messages/m1/audio', { ...q, by: 'root' })).toBeUndefined();
    expect(links.verify('/api/messages/m1/audio', { ...q, exp: String(Number(q.exp) + 1000) })).toBeUndefined();
    expect(links.verify('/api/messages/m1/audio', { ...q, sig: q.sig!.slice(1) })).toBeUndefined();
    expect(links.verify('/api/messages/m1/audio', { ...q, exp: '1e20' })).toBeUndefined();
    expect(links.verify('/api/messages/m1/audio', {})).toBeUndefined();
    // Another process (another key) does not accept it.
    expect(new MediaLinks().verify('/api/messages/m1/audio', q)).toBeUndefined();
  });
});
