/** An INVITE as the call layer's party reading sees it (src/call/parties.ts InviteView), from literals. */
import type { InviteView } from '../../src/call/parties.js';

export function inviteView(requestUri: string, headers: Record<string, string | string[]> = {}): InviteView {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
  return { requestUri, header: (name) => lower.get(name.toLowerCase()) ?? [] };
}
