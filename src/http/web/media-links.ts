/**
 * Signed links for the browser's <audio> element. An administrator's page holds an API token and sends it as
 * a bearer header, but <audio src> fetches by itself and cannot send headers; putting the token in the URL
 * would leave it in proxies' and servers' logs. So the page asks (with its token) for a link to one audio
 * path, and gets the path with an expiry and an HMAC of both (as S3 presigned URLs): it opens that audio
 * and nothing else, for a few minutes, long enough for the element's range requests while seeking.
 *
 * The key is random per process: links die with a restart, which costs the page one more request.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a link works, ms: a message can be replayed and sought for this long after it was opened. */
export const MEDIA_LINK_TTL_MS = 15 * 60_000;

export class MediaLinks {
  private readonly key = randomBytes(32);

  constructor(
    private readonly ttlMs = MEDIA_LINK_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `path` (no query) with `exp` and `sig` parameters added, for the principal `who`. */
  sign(path: string, who: string): string {
    const exp = this.now() + this.ttlMs;
    return `${path}?${new URLSearchParams({ by: who, exp: String(exp), sig: this.mac(path, who, exp) })}`;
  }

  /**
   * Who signed a link for this path, when its parameters are a valid, unexpired signature of it; undefined
   * otherwise (a changed path, parameter or expiry, or an old link).
   */
  verify(path: string, query: { by?: unknown; exp?: unknown; sig?: unknown }): string | undefined {
    const { by, exp, sig } = query;
    if (typeof by !== 'string' || typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,15}$/.test(exp)) return undefined;
    const expiry = Number(exp);
    if (this.now() >= expiry) return undefined;
    const expected = Buffer.from(this.mac(path, by, expiry), 'base64url');
    const given = Buffer.from(sig, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected) ? by : undefined;
  }

  private mac(path: string, who: string, exp: number): string {
    // NUL separators: no path, name or number contains one, so two different triples never hash alike.
    return createHmac('sha256', this.key).update(`${path}\0${who}\0${exp}`).digest('base64url');
  }
}

/**
 * `url` with a signed link's signature blanked, for the request log: a log line is read by more people than
 * the audio it would open (and kept longer than the 15 minutes the link lasts). `by` and `exp` stay: who asked
 * for the link, and until when, is what an audit wants.
 */
export function redactSignature(url: string): string {
  return url.replace(/([?&]sig=)[^&#]*/g, '$1REDACTED');
}
