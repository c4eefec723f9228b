/**
 * What one client can hold of the admin HTTP server (src/http/connection-limits.ts): a real server on loopback,
 * clients standing at 127.0.0.2 and 127.0.0.3 (127.0.0.1 is this host's own probe).
 *
 * Covers: sockets that send nothing (and a header that never ends) from one source are capped at
 * http.maxConnectionsPerSource (the next is closed at once) while another source and the local probe are
 * served; such sockets are closed once http.headersTimeoutS has passed (Node's own check runs every 30 s, so
 * within 45 s); the config's defaults.
 * Does not cover: the total cap (the same ConnectionQuota as SIP's, test/unit/connection-quota.test.ts).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startApiServer, type ApiServer } from '../helpers/http-api.js';

const PER_SOURCE = 3;
let api: ApiServer;
let port: number;
const held: Socket[] = [];

beforeAll(async () => {
  api = await startApiServer('', `maxConnectionsPerSource: ${PER_SOURCE}, headersTimeoutS: 1`);
  port = Number(new URL(api.url).port);
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await api?.stop();
});

/** A socket from `from` that sends `text` (maybe nothing); resolves once connected. */
function open(from: string, text = ''): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    held.push(socket);
    socket.on('data', () => undefined);
    socket.once('connect', () => {
      if (text) socket.write(text);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** GET /healthz from `from` on a fresh socket: the status line, or 'closed'. */
function healthFrom(from: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text.split('\r\n')[0] || 'closed'));
  });
}

describe('connections from one source', () => {
  it(`holds at most ${PER_SOURCE} from one source; another source and the local probe are served`, async () => {
    const idle = [await open('127.0.0.2'), await open('127.0.0.2'), await open('127.0.0.2', 'GET / HTTP/1.1\r\nX: ')];
    const over = await open('127.0.0.2');
    expect(await closedWithin(over, 2000)).toBe(true);
    expect(await healthFrom('127.0.0.3')).toBe('HTTP/1.1 200 OK');
    expect(await healthFrom('127.0.0.1')).toBe('HTTP/1.1 200 OK');
    expect(idle.some((s) => s.destroyed)).toBe(false);
  });

  it('closes sockets whose header section does not arrive within headersTimeoutS (a started request gets a 408 problem)', async () => {
    const silent = await open('127.0.0.3');
    const dripping = await open('127.0.0.3', 'GET / HTTP/1.1\r\n');
    let answer = '';
    dripping.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const closed = await Promise.all([closedWithin(silent, 45_000), closedWithin(dripping, 45_000)]);
    expect(closed).toEqual([true, true]);
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer).toMatch(/\r\nContent-Type: application\/problem\+json\r\n[^]*"status":408/);
  }, 50_000);
});

describe('config', () => {
  it('defaults: 2000 sockets, 256 per source, 10 s for a header section', () => {
    expect(parseConfig('', '/tmp').http).toMatchObject({ maxConnections: 2000, maxConnectionsPerSource: 256, headersTimeoutS: 10 });
  });
});
