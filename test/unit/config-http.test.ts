/**
 * The http section of the config (schema.ts): the embedded default, `http: false`, listen addresses, TLS files
 * resolved and checked, tokens (hash format, one name once). Serving is tested in integration/http-*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { examineConfig, parseConfig } from '../../src/config/load.js';
import { tlsFixture } from '../helpers/tls-fixture.js';

const HASH = `sha256:${'ab'.repeat(32)}`;
const errorsOf = (yaml: string): string[] => examineConfig(yaml, '/etc/vmpilot').errors.map((e) => `${e.path}: ${e.message}`);

describe('http', () => {
  it('defaults to 127.0.0.1:8080, on, no tokens, no TLS, no trusted proxy, connection limits', () => {
    expect(parseConfig('', '/tmp').http).toEqual({
      enabled: true,
      listen: { host: '127.0.0.1', port: 8080 },
      tokens: [],
      maxBodyBytes: 50 * 1024 * 1024,
      trustProxy: false,
      maxConnections: 2000,
      maxConnectionsPerSource: 256,
      headersTimeoutS: 10,
    });
  });

  it('http: false and enabled: false switch it off', () => {
    expect(parseConfig('http: false', '/tmp').http.enabled).toBe(false);
    expect(parseConfig('http: { enabled: false }', '/tmp').http.enabled).toBe(false);
  });

  it('takes IPv4 and bracketed IPv6 listen addresses, and tokens', () => {
    const http = parseConfig(`http: { listen: "[::1]:9090", tokens: [{ name: ops, hash: "${HASH}" }] }`, '/tmp').http;
    expect(http.listen).toEqual({ host: '::1', port: 9090 });
    expect(http.tokens).toEqual([{ name: 'ops', hash: HASH }]);
  });

  it('reports each bad key at its path', () => {
    expect(
      errorsOf(`http:
  listen: "localhost:80"
  tokens:
    - { name: ops, hash: "${HASH}" }
    - { name: ops, hash: "md5:1234" }
    - { name: "two words", hash: "${HASH}" }
  colour: blue
`),
    ).toEqual([
      'http.listen: "localhost" is not an IP address (use 0.0.0.0 or [::] for all addresses)',
      'http.tokens[1].name: "ops" is already the name of http.tokens[0]',
      expect.stringMatching(/^http\.tokens\[1\]\.hash: must be "sha256:" and 64 hex digits/),
      'http.tokens[2].name: must be 1 to 64 letters, digits or _ . @ -',
      'http.colour: unknown key (allowed here: enabled, listen, tls, tokens, maxBodyBytes, trustProxy, maxConnections, maxConnectionsPerSource, headersTimeoutS)',
    ]);
    expect(errorsOf('http: true')).toEqual(['http: expected a mapping, got boolean true']);
    expect(errorsOf('http: { listen: "[::1]" }')).toEqual([expect.stringMatching(/^http\.listen: expected address:port/)]);
  });

  it('resolves TLS files against the config folder and reports missing ones', () => {
    const tls = tlsFixture();
    const http = parseConfig(`http: { tls: { cert: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)} } }`, '/tmp').http;
    expect(http.tls).toEqual({ cert: tls.certFile, key: tls.keyFile });
    expect(errorsOf('http: { tls: { cert: web.crt, key: web.key } }')).toEqual([
      'http.tls.cert: cannot read /etc/vmpilot/web.crt: no such file',
      'http.tls.key: cannot read /etc/vmpilot/web.key: no such file',
    ]);
  });
});
