// The two ways this page talks to vmpilot:
//  - an administrator's API token, kept in sessionStorage (gone when the tab closes) and sent as a bearer
//    header; never in a URL, where proxies and logs would keep it;
//  - a mailbox owner's session cookie (HttpOnly, SameSite=Strict: set by the server, unseen by this script).
// Every state-changing request carries a JSON body or the X-Requested-With header: the server refuses
// state changes without one (a cross-site form can send neither without a CORS preflight).

const TOKEN_KEY = 'vmpilot.token';

export const adminToken = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An API error: the RFC 9457 problem's title and detail when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function request(method, path, { body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { 'x-requested-with': 'vmpilot-web', ...headers }, credentials: 'same-origin' };
  if (body instanceof Blob) {
    init.body = body;
    init.headers['content-type'] ||= body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    const problem = (res.headers.get('content-type') || '').includes('json') ? await res.json().catch(() => undefined) : undefined;
    throw new ApiError(res.status, problem);
  }
  if (raw) return res;
  return res.status === 204 || res.headers.get('content-length') === '0' ? undefined : res.json();
}

/** The admin API, with the token of this tab. */
export function admin(method, path, options = {}) {
  const token = adminToken.get();
  return request(method, path, { ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } });
}

/** The owner's API (/api/me/...), with the session cookie. */
export function owner(method, path, options = {}) {
  return request(method, path, options);
}

/** encodeURIComponent for each path segment. */
export const seg = encodeURIComponent;
