/**
 * Starts a real vmpilot server in the test process on ephemeral loopback ports, configured through the same
 * YAML parser operators use, and tells tests where it listens.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer, type ServerHooks } from '../../src/server.js';
import { reserveRtpPorts } from './rtp-range.js';
import { tlsFixture } from './tls-fixture.js';

export interface TestServer {
  server: RunningServer;
  /** The server's storage.dir (a fresh temporary folder). */
  dir: string;
  port(transport: 'udp' | 'tcp' | 'tls'): number;
  /** The configured rtp.ports range, inclusive. */
  rtpPorts: { min: number; max: number };
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** How many RTP ports the server gets (from a block of 200 reserved for it, see rtp-range.ts). Default 200. */
  rtpPorts?: number;
  /** Where the server logs. Default silent (or VMPILOT_TEST_LOG's level on stdout). */
  logger?: Logger;
}

/**
 * `extraYaml` is appended to the generated config (top-level keys other than sip.listen, rtp and storage);
 * `rtpExtra` adds keys to the rtp mapping, e.g. 'noRtpTimeoutS: 1'.
 */
export async function startTestServer(
  extraYaml = '',
  sipExtra = '',
  hooks: ServerHooks = {},
  rtpExtra = '',
  options: TestServerOptions = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-test-'));
  const tls = tlsFixture();
  const rtp = await reserveRtpPorts(Math.min(200, options.rtpPorts ?? 200));
  const { min: rtpMin, max: rtpMax } = rtp;
  const yaml = `
sip:
  listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0"]
  tls: { cert: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)} }
${sipExtra}
rtp: { address: 127.0.0.1, ports: "${rtpMin}-${rtpMax}"${rtpExtra ? `, ${rtpExtra}` : ''} }
storage: { dir: ${JSON.stringify(dir)} }
${/^http:/m.test(extraYaml) ? '' : 'http: false # not the embedded default port 8080: tests run side by side'}
${extraYaml}
`;
  const logger = options.logger ?? pino({ level: process.env.VMPILOT_TEST_LOG ?? 'silent' });
  let server: RunningServer;
  try {
    server = await startServer(parseConfig(yaml, dir), logger, hooks);
  } catch (err) {
    await rtp.release();
    throw err;
  }
  return {
    server,
    dir,
    rtpPorts: { min: rtpMin, max: rtpMax },
    port(transport) {
      const entry = server.addresses().find((a) => a.transport === transport);
      if (!entry) throw new Error(`server has no ${transport} listener`);
      return entry.port;
    },
    async stop() {
      await server.close();
      await rtp.release();
    },
  };
}

/** Waits until `predicate` holds or the time runs out (then throws with `what`). */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
