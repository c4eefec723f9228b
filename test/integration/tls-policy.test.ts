/**
 * What the TLS listener negotiates (issue 9 item 8): by default forward-secret AEAD suites only, TLS 1.2 at
 * least; sip.tls.ciphers and sip.tls.minVersion (TlsOptions.ciphers, .minVersion) change that.
 *
 * Covers: a TLS 1.2 client offering only static-RSA CBC-SHA1 (AES128-SHA) is refused by default and accepted
 * when the operator lists that suite; an ECDHE-RSA-AES128-GCM-SHA256 client and a TLS 1.3 client are accepted;
 * with minVersion TLSv1.3 a TLS 1.2-only client is refused.
 *
 * Does not cover: outbound TLS (the same options are applied; transport.test.ts covers its verification).
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportLayer } from '../../src/sip/transport/transport-layer.js';
import type { TlsOptions } from '../../src/sip/transport/types.js';
import { tlsFixture } from '../helpers/tls-fixture.js';

const logger = pino({ level: 'silent' });
const layers: TransportLayer[] = [];
afterEach(async () => {
  for (const layer of layers.splice(0)) await layer.close();
});

async function tlsServer(extra: Partial<TlsOptions> = {}): Promise<number> {
  const files = tlsFixture();
  const layer = new TransportLayer({ logger, tls: { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile), ...extra } });
  layers.push(layer);
  await layer.listen([{ transport: 'tls', host: '127.0.0.1', port: 0 }]);
  return layer.bound()[0]!.port;
}

/** The cipher negotiated by a client with these settings, or the handshake error's message. */
function handshake(port: number, client: { ciphers?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<{ cipher?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(tlsFixture().caFile), ...client });
    socket.once('secureConnect', () => {
      resolve({ cipher: socket.getCipher().name });
      socket.destroy();
    });
    socket.once('error', (err) => resolve({ error: err.message }));
  });
}

describe('the TLS listener by default', () => {
  it('refuses a client that offers only static-RSA CBC suites', async () => {
    const port = await tlsServer();
    expect((await handshake(port, { ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' })).error).toBeDefined();
  });

  it('accepts ECDHE with AES-GCM over TLS 1.2, and TLS 1.3', async () => {
    const port = await tlsServer();
    expect(await handshake(port, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toEqual({ cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect((await handshake(port, { maxVersion: 'TLSv1.3' })).cipher).toMatch(/^TLS_/);
  });
});

describe('the TLS listener as configured', () => {
  it('accepts a suite the operator lists (sip.tls.ciphers)', async () => {
    const port = await tlsServer({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' });
    expect(await handshake(port, { ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' })).toEqual({ cipher: 'AES128-SHA' });
  });

  it('refuses TLS 1.2 with minVersion TLSv1.3 (sip.tls.minVersion)', async () => {
    const port = await tlsServer({ minVersion: 'TLSv1.3' });
    expect((await handshake(port, { maxVersion: 'TLSv1.2' })).error).toBeDefined();
    expect((await handshake(port, { maxVersion: 'TLSv1.3' })).cipher).toMatch(/^TLS_/);
  });
});
