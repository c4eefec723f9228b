/**
 * A real vmpilot server with its admin HTTP API on a free loopback port and one API token, and fetch helpers
 * that call it as a client would. The server's log lines are kept (tests check what was logged).
 */
import { createLogger } from '../../src/admin/log.js';
import { hashToken, newToken } from '../../src/http/tokens.js';
import { startTestServer, type TestServer } from './test-server.js';

export interface ApiServer {
  ts: TestServer;
  /** "http://127.0.0.1:PORT". */
  url: string;
  /** The token named TOKEN_NAME. */
  token: string;
  /** The server's log lines so far, parsed. */
  logs(): Record<string, unknown>[];
  /** fetch(url + path) with the token (unless init.headers says otherwise). */
  call(path: string, init?: RequestInit): Promise<Response>;
  /** call() with a JSON body and content type. */
  json(method: string, path: string, body: unknown): Promise<Response>;
  stop(): Promise<void>;
}

export const TOKEN_NAME = 'ops-test';

/** `extraYaml`: further top-level config keys (not http); `httpExtra`: keys added to the http mapping. */
export async function startApiServer(extraYaml = '', httpExtra = ''): Promise<ApiServer> {
  const token = newToken();
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  const http = `http: { listen: "127.0.0.1:0", tokens: [{ name: ${TOKEN_NAME}, hash: "${hashToken(token)}" }]${httpExtra ? `, ${httpExtra}` : ''} }`;
  const ts = await startTestServer(`${http}\n${extraYaml}`, '', {}, '', { logger });
  const url = ts.server.http!.url;
  const call = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
  return {
    ts,
    url,
    token,
    logs: () => lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    call,
    json: (method, path, body) => call(path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    stop: () => ts.stop(),
  };
}
