/**
 * The embedded defaults (DESIGN.md, "the operator's contract"): what `vmpilot serve` runs with when no config
 * file is given, and what each absent key means. One place, so the README, the schema and `check` agree.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORWARD_SECRET_AEAD_CIPHERS } from '../sip/transport/tls.js';

/**
 * This package's folder and version, from its package.json. The source file runs both as
 * src/config/defaults.ts (tsx, tests) and as dist/src/config/defaults.js (installed), so walk up rather than
 * hard-code the depth. Read once at start-up, never on a call path.
 */
function findPackage(): { root: string; version: string } {
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'vmpilot' && typeof pkg.version === 'string') return { root: dir, version: pkg.version };
    } catch {
      // No package.json here (or unreadable): keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { root: join(start, '..', '..'), version: '0.0.0' };
}

const PACKAGE = findPackage();
export const VERSION = PACKAGE.version;
/** The installed package's folder (prompts/ ships in it). */
export const PACKAGE_ROOT = PACKAGE.root;

export const DEFAULTS = {
  /** SIP on UDP and TCP 5060 on all IPv4 addresses. */
  listen: ['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060'],
  /** No version: telling every scanner which release runs here helps only an attacker (issue 9 item 8). */
  userAgent: 'vmpilot',
  /** What requests from sources that are not a trusted PBX get: 403 ('reject') or nothing ('ignore'). */
  strangers: 'reject' as 'reject' | 'ignore',
  /** RFC 3261 §17.1.1.1 T1, T2 and T4 (Table 4 values). */
  timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 },
  /** RFC 4028 Session-Expires we ask for; the RFC recommends 1800 s. */
  sessionExpiresS: 1800,
  /** RFC 4028 §4: Min-SE may not be below 90 s. */
  minSessionExpiresS: 90,
  /** Per untrusted source; trusted PBX sources are not limited unless sip.rateLimit.trusted says so. */
  rateLimit: { perSourcePerSecond: 200, burst: 400 },
  /** Stream connections (TCP, TLS): a stranger's slow-loris or half-open handshakes must not crowd out the PBX. */
  limits: {
    maxConnections: 10_000,
    maxConnectionsPerSource: 64,
    messageTimeoutS: 10,
    maxHeaderBytes: 16 * 1024,
    tlsHandshakeTimeoutS: 10,
    /** One IPv6 subscriber's network (RFC 6177): counted as one source by every per-source limit. */
    ipv6PrefixLength: 64,
    /** A stranger's TLS handshakes cost the RTP loop ~1 ms each: 10 a second is plenty for a phone. */
    newConnectionsPerSourcePerSecond: 10,
  },
  /** TLS: forward-secret AEAD suites only (sip/transport/tls.ts says which and why). */
  tlsCiphers: FORWARD_SECRET_AEAD_CIPHERS,
  tlsMinVersion: 'TLSv1.2' as 'TLSv1.2' | 'TLSv1.3',
  rtpAddress: '0.0.0.0',
  rtpPorts: '20000-29999',
  /** Asterisk's rtptimeout is off by default; a voicemail port held by a dead call is worse than a hang-up. */
  noRtpTimeoutS: 60,
  promptLanguage: 'en-US',
  /** Relative to the config file's folder; the empty marker means the package's own prompts/ folder. */
  promptsDir: '',
  dtmf: { rfc4733: true, info: true, inband: 'auto' as boolean | 'auto' },
  srtp: 'offered' as 'off' | 'offered' | 'required',
  /** README "RTP while recording": one packet a second keeps NATs and media timers alive at 2% of the packets. */
  rtpWhileRecording: 'keepalive' as 'silence' | 'keepalive' | 'none',
  /** Relative to the config file's folder (the working directory when there is no file). */
  storageDir: './data',
  services: { voicemail: ['8000'], attendant: ['8001'], echo: ['*43'] },
  /** Answer at once; some sites want callers to hear ringing first. */
  answerDelayMs: 0,
  logLevel: 'info',
  drainSeconds: 30,
  /**
   * limits.maxCalls: calls one process carries at once. Measured (issue 13, 2-core machine, 30 s deposit
   * calls): one process held 600 calls at 89 % of its core, where outbound RTP timing started to slip (p99
   * 37.6 ms). 600 is the point past which every call's audio degrades, so the 601st call gets 503 instead.
   */
  maxCalls: 600,
  /** The admin HTTP API: loopback only until an operator chooses to expose it (and gives it tokens and TLS). */
  httpListen: '127.0.0.1:8080',
  /** Request bodies (greeting uploads are the big ones): 10 minutes of 16-bit 16 kHz stereo WAV is ~38 MB. */
  httpMaxBodyBytes: 50 * 1024 * 1024,
  /** Admin HTTP sockets: a site's administrators and owners' browsers, far below what would crowd out the calls. */
  httpMaxConnections: 2000,
  /** An office behind one NAT address: a few browsers of 6 sockets each, with room. */
  httpMaxConnectionsPerSource: 256,
  /** Node's default is 60 s: a silent client held its socket that long. */
  httpHeadersTimeoutS: 10,
  /** cluster.basePort when absent: the first sip.listen port + 5 (5060 → workers from 5065). */
  clusterPortOffset: 5,
} as const;
