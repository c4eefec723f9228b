/**
 * Web voicemail sessions (issue 11, "mailbox owners sign in with mailbox number and PIN"): a random id, kept in
 * an HttpOnly cookie, scoped to one mailbox, with an idle expiry and an absolute one.
 *
 * Kept in this process's memory: the web pages are served by one process (the single server, or a cluster's
 * front door), and a restart signs owners out, which costs them one PIN entry. The table is bounded: past
 * `max` sessions the oldest is dropped, so a flood of sign-ins cannot grow memory.
 *
 * Not here: the PIN check (the store's checkPin, under the phone's back-off) and the cookie's attributes
 * (owner-cookie.ts).
 */
import { randomBytes } from 'node:crypto';

export interface OwnerSession {
  /** 32 random bytes, base64url: the cookie's value. */
  readonly id: string;
  /** The mailbox number this session may see and change, and nothing else. */
  readonly mailbox: string;
  /**
   * The mailbox's PIN hash at sign-in: a session outlives no PIN change (by phone, or an administrator's
   * reset), which is how an owner who fears someone else signed in ends every other session.
   */
  readonly pinHash: string;
  readonly createdAt: number;
  /** ms since epoch; pushed forward by each use, never past createdAt + maxAgeMs. */
  expiresAt: number;
}

export interface OwnerSessionOptions {
  /** A session unused this long ends, ms. Default 30 minutes. */
  idleMs?: number;
  /** A session ends this long after sign-in however busy, ms. Default 12 hours. */
  maxAgeMs?: number;
  /** Most sessions kept; the oldest goes first. Default 10,000. */
  max?: number;
  /** The clock (tests). Default Date.now. */
  now?: () => number;
}

export class OwnerSessions {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  private readonly max: number;
  private readonly now: () => number;
  /** By id, in creation order (a Map iterates in insertion order: the first entry is the oldest). */
  private readonly sessions = new Map<string, OwnerSession>();

  constructor(opts: OwnerSessionOptions = {}) {
    this.idleMs = opts.idleMs ?? 30 * 60_000;
    this.maxAgeMs = opts.maxAgeMs ?? 12 * 3600_000;
    this.max = opts.max ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for `mailbox` (after a right PIN), whose PIN hash is now `pinHash`. */
  create(mailbox: string, pinHash = ''): OwnerSession {
    const now = this.now();
    this.dropExpired(now);
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const session: OwnerSession = { id: randomBytes(32).toString('base64url'), mailbox, pinHash, createdAt: now, expiresAt: now + Math.min(this.idleMs, this.maxAgeMs) };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, its idle expiry renewed; undefined when unknown or expired. */
  use(id: string | undefined): OwnerSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    if (now >= session.expiresAt) {
      this.sessions.delete(id);
      return undefined;
    }
    session.expiresAt = Math.min(now + this.idleMs, session.createdAt + this.maxAgeMs);
    return session;
  }

  /** Signs out (idempotent). */
  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  /** Ends every session of a mailbox (its PIN was reset, it was deleted or locked). */
  endMailbox(mailbox: string): void {
    for (const [id, s] of this.sessions) if (s.mailbox === mailbox) this.sessions.delete(id);
  }

  /**
   * Drops expired sessions from the oldest on, stopping at the first live one: sessions are in creation order
   * and the oldest expire first under the absolute limit, so this visits few live entries. An idle session
   * behind a live older one waits for use() or its turn.
   */
  private dropExpired(now: number): void {
    for (const [id, s] of this.sessions) {
      if (now < s.expiresAt) break;
      this.sessions.delete(id);
    }
  }
}
