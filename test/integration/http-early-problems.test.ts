/**
 * Every answer of the admin HTTP server is an RFC 9457 problem (application/problem+json), also those made before
 * any route runs (src/http/early-problems.ts), each sent as raw bytes from a TCP socket the way a broken or
 * hostile client sends them: a header section over Node's 16 KiB (431), a request Node's parser cannot read
 * (400), a path fastify's router refuses (400 bad percent-encoding, 414 parameter too long), an Expect it cannot
 * meet (417), HTTP/1.1 without Host (400), a request on a kept-alive connection while the server stops (503).
 * The ones server.ts's handlers see are checked here too, as a client meets them: 404, 413, 415, 400.
 * Not here: 408 (http-connection-limits.test.ts times the header deadline).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

let api: ApiServer;
let port: number;

beforeAll(async () => {
  api = await startApiServer('mailboxes:\n  - { number: "27000", pin: "7391", name: "Alice Example" }');
  port = api.ts.server.http!.address().port;
});
afterAll(async () => {
  await api?.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads one HTTP response from `text` (Content-Length framed). */
function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4, end + 4 + length);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/**
 * Sends `chunks` (the later ones after `between` has run) on one connection and resolves with every response
 * read until the server closes it or 5 s pass.
 */
function exchange(chunks: string[], between?: () => void): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const responses: RawResponse[] = [];
      let rest = received;
      for (let r = parseResponse(rest); r; r = parseResponse(rest)) {
        responses.push(r);
        rest = rest.slice(rest.indexOf('\r\n\r\n') + 4 + Buffer.byteLength(r.body));
      }
      if (responses.length === 0) reject(new Error(`no complete response in ${JSON.stringify(received.slice(0, 200))}`));
      else resolve(responses);
    });
    socket.write(chunks[0]!);
    if (chunks.length === 1) return;
    // The server has read the first chunk (loopback, 200 ms), then `between` runs, then the rest is sent.
    setTimeout(() => {
      between?.();
      setTimeout(() => socket.write(chunks.slice(1).join('')), 200);
    }, 200);
  });
}

async function one(request: string): Promise<RawResponse> {
  return (await exchange([request]))[0]!;
}

const auth = (): string => `Authorization: Bearer ${api.token}\r\n`;

function expectProblem(res: RawResponse, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(body).toMatchObject({ type: 'about:blank', status });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
}

describe('answers made before any route runs', () => {
  it('a header section over 16 KiB: 431 problem', async () => {
    const res = await one(`GET /api/mailboxes HTTP/1.1\r\nHost: x\r\n${auth()}X-Pad: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    expectProblem(res, 431);
  });

  it('a request the HTTP parser cannot read: 400 problem', async () => {
    expectProblem(await one('GET /api/mailboxes HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n'), 400);
    expectProblem(await one('NOT HTTP AT ALL\r\n\r\n'), 400);
  });

  it('a path the router refuses: 400 for a bad percent-encoding, 414 for a parameter over 100 characters', async () => {
    expectProblem(await one(`GET /api/mailboxes/%E0%A4%A HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`), 400);
    expectProblem(await one(`GET /api/mailboxes/${'1'.repeat(150)} HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`), 414);
  });

  it('an Expect the server cannot meet: 417 problem', async () => {
    expectProblem(await one(`GET /api/mailboxes HTTP/1.1\r\nHost: x\r\n${auth()}Expect: 200-ok\r\nConnection: close\r\n\r\n`), 417);
  });

  it('HTTP/1.1 without Host: 400 problem (RFC 9112 §3.2); HTTP/1.0 without Host is served', async () => {
    expectProblem(await one(`GET /api/mailboxes HTTP/1.1\r\n${auth()}Connection: close\r\n\r\n`), 400);
    expect((await one(`GET /api/mailboxes HTTP/1.0\r\n${auth()}\r\n`)).status).toBe(200);
  });
});

describe('answers of the not-found and error handlers, as a client meets them', () => {
  it('an unknown route: 404; a JSON body too large: 413; an unsupported type: 415; malformed JSON: 400', async () => {
    expectProblem(await one(`GET /nowhere HTTP/1.1\r\nHost: x\r\n${auth()}Connection: close\r\n\r\n`), 404);
    const big = JSON.stringify({ name: 'x'.repeat(100 * 1024) });
    expectProblem(await one(`PATCH /api/mailboxes/27000 HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`), 413);
    expectProblem(await one(`PATCH /api/mailboxes/27000 HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\nConnection: close\r\n\r\nname=x`), 415);
    expectProblem(await one(`PATCH /api/mailboxes/27000 HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nContent-Length: 6\r\nConnection: close\r\n\r\n{"name`), 400);
  });
});

// Last: it stops the HTTP server.
describe('while the server stops', () => {
  it('a request on a kept-alive connection gets a 503 problem, after the request in progress is answered', async () => {
    // The first request is in progress (its body half sent) when the server starts to stop; the second follows
    // on the same connection.
    const body = JSON.stringify({ maxMessages: 50 });
    const first = `PATCH /api/mailboxes/27000 HTTP/1.1\r\nHost: x\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    let closing: Promise<void> | undefined;
    const responses = await exchange([first + body.slice(0, 5), body.slice(5), `GET /api/mailboxes HTTP/1.1\r\nHost: x\r\n${auth()}\r\n`], () => {
      closing = api.ts.server.http!.close();
    });
    await closing;
    expect(responses.map((r) => r.status)).toEqual([200, 503]);
    expectProblem(responses[1]!, 503);
  });
});
