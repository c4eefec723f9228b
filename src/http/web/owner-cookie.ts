/**
 * The web voicemail session cookie (RFC 6265): its name, its attributes and reading it back.
 *
 * - HttpOnly: page scripts never see the session id (an injected script cannot carry it away).
 * - SameSite=Strict (RFC 6265bis §5.4.7): the browser does not send it on requests started by another site, the
 *   first line against cross-site request forgery; owner-routes.ts adds the second (a JSON body or a custom
 *   header on every state-changing request, which a cross-site form cannot send without a CORS preflight).
 * - Secure and the __Host- prefix when the page is served over TLS (RFC 6265bis §4.1.3.2: Secure, Path=/, no
 *   Domain, so a sibling host cannot plant or overwrite it). Without TLS a Secure cookie would never come
 *   back, so plain HTTP (loopback, or behind a TLS proxy) uses the plain name.
 */

const PLAIN_NAME = 'vmpilot-owner';
const SECURE_NAME = '__Host-vmpilot-owner';

/** The Set-Cookie value that starts a session lasting `maxAgeMs` (the browser forgets it then). */
export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  const name = secure ? SECURE_NAME : PLAIN_NAME;
  return `${name}=${id}; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The Set-Cookie value that ends the session in the browser. */
export function clearedCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}

/**
 * The session id from a Cookie header, under the name `secure` gives; undefined when absent. Values are not
 * decoded: ours are base64url, and anything else is simply an unknown session.
 */
export function sessionIdFrom(cookieHeader: string | undefined, secure: boolean): string | undefined {
  if (!cookieHeader) return undefined;
  const name = secure ? SECURE_NAME : PLAIN_NAME;
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) {
      const value = pair.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
