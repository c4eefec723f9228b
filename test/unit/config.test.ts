/*
 * Config loading (src/config): parseConfig, loadConfig, checkTlsMaterial.
 *
 * Covers: the embedded defaults; every kind of bad value reported at its path ("sip.listen[1]",
 * "pbx[0].addresses[2]") with the line it is on; every issue reported at once, not just the first; unknown keys
 * at the top and nested; YAML syntax errors with line:column; numbers that YAML would mangle (leading zero, +);
 * one numbering plan across pilots, mailboxes and aliases; TLS files missing, relative paths resolved against
 * the config file's folder; TLS material that does not parse or whose key does not match; voicemail.keys
 * (the owner's key map laid over issue 4's defaults, each bad menu, action or key at its path).
 *
 * Does not cover: the CLI's output and exit codes (test/integration/cli.test.ts); what the server does with a
 * config (the server's own tests); the attendants section (test/unit/attendant-check.test.ts), except that
 * the example config's attendant loads.
 */
import { copyFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, loadConfig, parseConfig, type ConfigIssue } from '../../src/config/load.js';
import { checkTlsMaterial } from '../../src/config/tls-files.js';
import { DEFAULT_KEYMAP } from '../../src/apps/voicemail/keymap.js';
import { DEFAULT_PIN_BACKOFF, pinBackoffPolicy } from '../../src/store/pin-backoff.js';
import { tlsFixture } from '../helpers/tls-fixture.js';
import packageJson from '../../package.json' with { type: 'json' };

const BASE = '/srv/vmpilot';

function issuesOf(yaml: string, baseDir = BASE): ConfigIssue[] {
  try {
    parseConfig(yaml, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

/** The single issue a config has; fails the test if there are none or several. */
function onlyIssue(yaml: string): ConfigIssue {
  const issues = issuesOf(yaml);
  expect(issues.map(formatIssue)).toHaveLength(1);
  return issues[0]!;
}

describe('storage.url (PostgreSQL)', () => {
  it('is absent by default: the SQLite store under storage.dir', () => {
    expect(parseConfig('', BASE).storage.url).toBeUndefined();
  });

  it('takes postgres:// and postgresql:// URLs naming a database', () => {
    expect(parseConfig('storage: { url: "postgres://vm:secret@db.example:5432/vmpilot" }', BASE).storage.url).toBe('postgres://vm:secret@db.example:5432/vmpilot');
    expect(parseConfig('storage: { url: "postgresql:///vmpilot?host=/run/postgresql" }', BASE).storage.url).toBe('postgresql:///vmpilot?host=/run/postgresql');
  });

  it.each(['mysql://db/vmpilot', 'postgres://db.example', 'not a url'])('refuses %s with its path', (url) => {
    const issue = onlyIssue(`storage: { url: ${JSON.stringify(url)} }`);
    expect(issue.path).toBe('storage.url');
    expect(issue.message).toMatch(/postgres:\/\/ or postgresql:\/\/ URL/);
  });
});

describe('embedded defaults (DESIGN.md)', () => {
  const config = parseConfig('', BASE);

  it('listens for SIP on UDP and TCP 5060 on all addresses', () => {
    expect(config.sip.listen).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5060 },
      { transport: 'tcp', host: '0.0.0.0', port: 5060 },
    ]);
    expect(config.sip.tls).toBeUndefined();
    expect(config.sip.advertise).toBeUndefined();
  });

  it('uses RTP ports 20000-29999 on all addresses', () => {
    expect(config.rtp).toEqual({ address: '0.0.0.0', portMin: 20000, portMax: 29999, noRtpTimeoutS: 60, io: 'auto', realtimePriority: 0 });
  });

  it('keeps data in ./data, resolved to an absolute path', () => {
    expect(config.storage.dir).toBe('/srv/vmpilot/data');
  });

  it('answers voicemail on 8000, the attendant on 8001 and the echo test on *43', () => {
    expect(config.services).toEqual({ voicemail: ['8000'], attendant: ['8001'], echo: ['*43'], answerDelayMs: 0 });
  });

  it('trusts no PBX (loopback only) and has no mailboxes', () => {
    expect(config.pbx).toEqual([]);
    expect(config.mailboxes).toEqual([]);
  });

  it('uses the RFC 3261 timer values T1 500 ms, T2 4 s, T4 5 s and asks for 1800 s sessions (RFC 4028)', () => {
    expect(config.sip.timers).toEqual({ t1Ms: 500, t2Ms: 4000, t4Ms: 5000 });
    expect(config.sip.sessionExpiresS).toBe(1800);
  });

  it('names itself plain vmpilot (no version), refuses strangers with 403, and limits each stranger to 200 requests/s, burst 400', () => {
    expect(config.sip.userAgent).toBe('vmpilot');
    expect(config.sip.strangers).toBe('reject');
    expect(config.sip.rateLimit).toEqual({ perSourcePerSecond: 200, burst: 400 });
  });

  it('caps stream connections: 10000 in all, 64 per stranger, 1000 kept for trusted peers, 16 KiB headers, 10 s per message, IPv6 per /64', () => {
    expect(config.sip.limits).toEqual({
      maxConnections: 10000,
      maxConnectionsPerSource: 64,
      reservedForTrusted: 1000,
      messageTimeoutS: 10,
      maxHeaderBytes: 16384,
      tlsHandshakeTimeoutS: 10,
      ipv6PrefixLength: 64,
      newConnectionsPerSourcePerSecond: 10,
    });
  });

  it('offers forward-secret AEAD TLS suites only, TLS 1.2 at least', () => {
    const tls = tlsFixture();
    const c = parseConfig(`sip: { tls: { cert: ${JSON.stringify(tls.certFile)}, key: ${JSON.stringify(tls.keyFile)} } }`, BASE);
    expect(c.sip.tls?.minVersion).toBe('TLSv1.2');
    const suites = c.sip.tls?.ciphers.split(':') ?? [];
    expect(suites.length).toBeGreaterThan(0);
    for (const suite of suites) expect(suite).toMatch(/^(TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+|ECDHE-(RSA|ECDSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305))$/);
  });

  it('logs at info and drains for 30 s on shutdown', () => {
    expect(config.log.level).toBe('info');
    expect(config.shutdown.drainSeconds).toBe(30);
  });

  it('treats an empty section ("sip:" with nothing under it) like an absent one', () => {
    expect(parseConfig('sip:\nrtp:\n', BASE)).toEqual(config);
  });

  it('fills in the keys a section leaves out', () => {
    const c = parseConfig('sip:\n  timers: { t1Ms: 100 }\n', BASE);
    expect(c.sip.timers).toEqual({ t1Ms: 100, t2Ms: 4000, t4Ms: 5000 });
    expect(c.sip.listen).toEqual(config.sip.listen);
  });
});

describe('sip.listen', () => {
  it('reads IPv4 and bracketed IPv6 specs, port 0 meaning any free port', () => {
    const c = parseConfig('sip:\n  listen: ["udp:127.0.0.1:0", "tcp:[::]:5060", "udp:[::1]:5070"]\n', BASE);
    expect(c.sip.listen).toEqual([
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '::', port: 5060 },
      { transport: 'udp', host: '::1', port: 5070 },
    ]);
  });

  it('rejects an unknown transport at its index', () => {
    const i = onlyIssue('sip:\n  listen: ["udp:0.0.0.0:5060", "sctp:0.0.0.0:5060"]\n');
    expect(i.path).toBe('sip.listen[1]');
    expect(i.message).toMatch(/unknown transport "sctp"/);
  });

  it('rejects an IPv6 address without brackets, saying how to write it', () => {
    const i = onlyIssue('sip:\n  listen: ["udp:::1:5060"]\n');
    expect(i.path).toBe('sip.listen[0]');
    expect(i.message).toContain('"udp:[::1]:5060"');
  });

  it('rejects a host name (a listener binds an address)', () => {
    expect(onlyIssue('sip:\n  listen: ["udp:pbx.example.com:5060"]\n').path).toBe('sip.listen[0]');
  });

  it('rejects a port above 65535', () => {
    const i = onlyIssue('sip:\n  listen: ["tcp:0.0.0.0:65536"]\n');
    expect(i.path).toBe('sip.listen[0]');
    expect(i.message).toMatch(/out of range/);
  });

  it('rejects a spec without a port', () => {
    expect(onlyIssue('sip:\n  listen: ["udp:0.0.0.0"]\n').path).toBe('sip.listen[0]');
  });

  it('rejects the same socket twice, naming the first', () => {
    const i = onlyIssue('sip:\n  listen: ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "udp:0.0.0.0:5060"]\n');
    expect(i.path).toBe('sip.listen[2]');
    expect(i.message).toContain('sip.listen[0]');
  });

  it('rejects tcp and tls on one address and port (both need the TCP socket)', () => {
    const yaml = 'sip:\n  listen: ["tcp:0.0.0.0:5060", "tls:0.0.0.0:5060"]\n  tls: { cert: a, key: b }\n';
    expect(issuesOf(yaml).map((i) => i.path)).toContain('sip.listen[1]');
  });

  it('allows several port-0 listeners (each gets its own port)', () => {
    expect(parseConfig('sip:\n  listen: ["udp:127.0.0.1:0", "udp:127.0.0.1:0"]\n', BASE).sip.listen).toHaveLength(2);
  });

  it('rejects an empty list', () => {
    expect(onlyIssue('sip:\n  listen: []\n').path).toBe('sip.listen');
  });

  it('says that a tls listener needs sip.tls', () => {
    const i = onlyIssue('sip:\n  listen: ["udp:0.0.0.0:5060", "tls:0.0.0.0:5061"]\n');
    expect(formatIssue({ ...i, line: undefined })).toBe('sip.listen[1]: tls listener needs sip.tls');
  });
});

describe('sip: other keys', () => {
  it('rejects a session interval below 90 s (RFC 4028 §4 Min-SE)', () => {
    expect(onlyIssue('sip: { sessionExpiresS: 60 }').path).toBe('sip.sessionExpiresS');
  });

  it('rejects a T2 below T1 (RFC 3261 §17.1.2.2)', () => {
    expect(onlyIssue('sip: { timers: { t1Ms: 1000, t2Ms: 500 } }').path).toBe('sip.timers.t2Ms');
  });

  it('accepts a host name or IP to advertise, IPv6 with or without brackets', () => {
    expect(parseConfig('sip: { advertise: vm.example.com }', BASE).sip.advertise).toBe('vm.example.com');
    expect(parseConfig('sip: { advertise: "[2001:db8::5]" }', BASE).sip.advertise).toBe('2001:db8::5');
  });

  it('rejects 0.0.0.0 as the advertised address (peers cannot send to it)', () => {
    expect(onlyIssue('sip: { advertise: 0.0.0.0 }').path).toBe('sip.advertise');
  });

  it('rejects a User-Agent that would break the header onto two lines', () => {
    expect(onlyIssue('sip: { userAgent: "a\\r\\nX-Evil: 1" }').path).toBe('sip.userAgent');
  });

  it('rejects a rate limit of 0', () => {
    expect(onlyIssue('sip: { rateLimit: { perSourcePerSecond: 0 } }').path).toBe('sip.rateLimit.perSourcePerSecond');
  });

  it('takes a separate rate limit for trusted sources', () => {
    expect(parseConfig('sip: { rateLimit: { trusted: { perSourcePerSecond: 5000, burst: 10000 } } }', BASE).sip.rateLimit.trusted).toEqual({ perSourcePerSecond: 5000, burst: 10000 });
  });

  it('takes strangers: ignore, and nothing but reject or ignore', () => {
    expect(parseConfig('sip: { strangers: ignore }', BASE).sip.strangers).toBe('ignore');
    expect(onlyIssue('sip: { strangers: maybe }').path).toBe('sip.strangers');
  });

  it('derives reservedForTrusted from maxConnections, and refuses one that leaves strangers nothing', () => {
    expect(parseConfig('sip: { limits: { maxConnections: 200 } }', BASE).sip.limits.reservedForTrusted).toBe(20);
    expect(onlyIssue('sip: { limits: { maxConnections: 10, reservedForTrusted: 10 } }').path).toBe('sip.limits.reservedForTrusted');
  });

  it('refuses a TLS cipher list OpenSSL does not know, and TLS versions before 1.2', () => {
    const files = `cert: ${JSON.stringify(tlsFixture().certFile)}, key: ${JSON.stringify(tlsFixture().keyFile)}`;
    expect(onlyIssue(`sip: { tls: { ${files}, ciphers: "NO-SUCH-CIPHER" } }`).path).toBe('sip.tls.ciphers');
    expect(onlyIssue(`sip: { tls: { ${files}, minVersion: TLSv1.1 } }`).path).toBe('sip.tls.minVersion');
  });
});

describe('rtp.ports', () => {
  it('reads "min-max" into portMin and portMax', () => {
    expect(parseConfig('rtp: { address: 10.1.2.3, ports: "30000-30099" }', BASE).rtp).toEqual({
      address: '10.1.2.3',
      portMin: 30000,
      portMax: 30099,
      noRtpTimeoutS: 60,
      io: 'auto',
      realtimePriority: 0,
    });
  });

  it('reads rtp.io (native, dgram, auto) and refuses anything else', () => {
    expect(parseConfig('rtp: { io: native }', BASE).rtp.io).toBe('native');
    expect(parseConfig('rtp: { io: dgram }', BASE).rtp.io).toBe('dgram');
    expect(onlyIssue('rtp: { io: epoll }').path).toBe('rtp.io');
  });

  it('reads rtp.realtimePriority 0-99 (default 0, off)', () => {
    expect(parseConfig('rtp: { realtimePriority: 10 }', BASE).rtp.realtimePriority).toBe(10);
    expect(parseConfig('{}', BASE).rtp.realtimePriority).toBe(0);
    expect(onlyIssue('rtp: { realtimePriority: 100 }').path).toBe('rtp.realtimePriority');
    expect(onlyIssue('rtp: { realtimePriority: -1 }').path).toBe('rtp.realtimePriority');
  });

  it.each([
    ['an odd first port (RTP uses the even ports, RFC 3550 §11)', '20001-29999', /even/],
    ['a range that runs backwards', '30000-20000', /below/],
    ['an empty range', '20000-20000', /below/],
    ['a port below 1024', '1000-2000', /1024-65535/],
    ['a port above 65535', '60000-70000', /1024-65535/],
    ['text that is not a range', 'lots', /range of ports/],
  ])('rejects %s', (_what, ports, message) => {
    const i = onlyIssue(`rtp: { ports: "${ports}" }`);
    expect(i.path).toBe('rtp.ports');
    expect(i.message).toMatch(message);
  });

  it('rejects an RTP address that is not an IP address', () => {
    expect(onlyIssue('rtp: { address: everywhere }').path).toBe('rtp.address');
  });

  it('reads rtp.advertise (the SDP c= address) as an IP address, brackets stripped', () => {
    expect(parseConfig('rtp: { advertise: 203.0.113.7 }', BASE).rtp.advertise).toBe('203.0.113.7');
    expect(parseConfig('rtp: { advertise: "[2001:db8::7]" }', BASE).rtp.advertise).toBe('2001:db8::7');
    expect(parseConfig('', BASE).rtp.advertise).toBeUndefined();
  });

  it.each([
    ['a host name (SDP needs the address)', 'media.example.com', /not an IP address/],
    ['the unspecified address', '0.0.0.0', /not reachable/],
  ])('rejects rtp.advertise: %s', (_what, value, message) => {
    const i = onlyIssue(`rtp: { advertise: "${value}" }`);
    expect(i.path).toBe('rtp.advertise');
    expect(i.message).toMatch(message);
  });
});

describe('services, pbx and mailboxes', () => {
  it('keeps numbers as digit strings, accepting unquoted YAML numbers', () => {
    const c = parseConfig('services: { voicemail: [43334, "43335"], attendant: ["#9"], echo: [] }', BASE);
    expect(c.services.voicemail).toEqual(['43334', '43335']);
    expect(c.services.attendant).toEqual(['#9']);
    expect(c.services.echo).toEqual([]);
  });

  it('keeps a PIN\'s leading zero and a number\'s leading + even when not quoted', () => {
    const c = parseConfig('mailboxes:\n  - { number: +46870001, pin: 0042, name: Bo, aliases: [0701] }\n', BASE);
    expect(c.mailboxes[0]).toEqual({ number: '+46870001', pin: '0042', name: 'Bo', aliases: ['0701'], hideFromDirectory: false });
  });

  it('rejects a service number that is not digits', () => {
    const i = onlyIssue('services: { voicemail: ["8000", "vm"] }');
    expect(i.path).toBe('services.voicemail[1]');
  });

  it('reads a PBX with addresses, CIDR blocks, MWI targets and credentials', () => {
    const c = parseConfig(
      [
        'pbx:',
        '  - name: mxone',
        '    addresses: ["192.168.222.10", "10.0.0.0/8", "2001:db8::/32"]',
        '    mwi: { targets: ["sip:192.168.222.10:5060", "sips:pbx.example.com;transport=tcp"] }',
        '    auth: { username: vm, password: s3cret }',
        '    mediaAddresses: ["192.168.223.0/24"]',
      ].join('\n'),
      BASE,
    );
    expect(c.pbx).toEqual([
      {
        name: 'mxone',
        addresses: ['192.168.222.10', '10.0.0.0/8', '2001:db8::/32'],
        mediaAddresses: ['192.168.223.0/24'],
        mwi: { targets: ['sip:192.168.222.10:5060', 'sips:pbx.example.com;transport=tcp'] },
        auth: { username: 'vm', password: 's3cret' },
        // Defaults: every digit source (in-band only without telephone-event), SRTP when the PBX offers it,
        // attendant transfers by REFER.
        dtmf: { rfc4733: true, info: true, inband: 'auto' },
        srtp: 'offered',
        transfer: 'refer',
        rtpWhileRecording: 'keepalive',
      },
    ]);
  });

  it('reads pbx[].rtpWhileRecording and rejects a value that is not silence, keepalive or none', () => {
    expect(parseConfig('pbx:\n  - { name: a, addresses: [10.0.0.1], rtpWhileRecording: none }\n', BASE).pbx[0]!.rtpWhileRecording).toBe('none');
    const i = onlyIssue('pbx:\n  - { name: a, addresses: [10.0.0.1], rtpWhileRecording: comfort }\n');
    expect(i.path).toBe('pbx[0].rtpWhileRecording');
    expect(i.message).toMatch(/silence, keepalive or none/);
  });

  it('gives a PBX no media anchors by default and rejects a bad one at its index', () => {
    expect(parseConfig('pbx:\n  - { name: a, addresses: [10.0.0.1] }\n', BASE).pbx[0]!.mediaAddresses).toEqual([]);
    expect(onlyIssue('pbx:\n  - { name: a, addresses: [10.0.0.1], mediaAddresses: [10.0.0.2, sbc] }\n').path).toBe('pbx[0].mediaAddresses[1]');
  });

  it('rejects a bad PBX address and a bad prefix length, each at its index', () => {
    const issues = issuesOf('pbx:\n  - name: a\n    addresses: ["10.0.0.1", "10.0.0.0/33", "10.0.0.300"]\n');
    expect(issues.map((i) => i.path)).toEqual(['pbx[0].addresses[1]', 'pbx[0].addresses[2]']);
  });

  it('rejects an MWI target that is not a SIP URI', () => {
    const i = onlyIssue('pbx:\n  - { name: a, addresses: [10.0.0.1], mwi: { targets: ["http://x"] } }\n');
    expect(i.path).toBe('pbx[0].mwi.targets[0]');
  });

  it('rejects two PBXs with one name', () => {
    const i = onlyIssue('pbx:\n  - { name: a, addresses: [10.0.0.1] }\n  - { name: a, addresses: [10.0.0.2] }\n');
    expect(i.path).toBe('pbx[1].name');
  });

  it('rejects two mailboxes with one number, naming the first', () => {
    const i = onlyIssue('mailboxes:\n  - { number: "27000", pin: "1234", name: A }\n  - { number: 27000, pin: "1234", name: B }\n');
    expect(i.path).toBe('mailboxes[1].number');
    expect(i.message).toContain('mailboxes[0].number');
  });

  it('rejects a mailbox or alias that is also a pilot number', () => {
    const issues = issuesOf('mailboxes:\n  - { number: "8000", pin: "1234", name: A, aliases: ["8001"] }\n');
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['mailboxes[0].number', '"8000" is already used by services.voicemail[0]'],
      ['mailboxes[0].aliases[0]', '"8001" is already used by services.attendant[0]'],
    ]);
  });

  it('rejects a short PIN, a missing name and a bad email address', () => {
    const issues = issuesOf('mailboxes:\n  - { number: "27000", pin: "12", email: nope }\n');
    // A missing key points at the start of its entry, so it comes first.
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['mailboxes[0].name', 'required'],
      ['mailboxes[0].pin', '"12" is not a PIN (4 to 16 digits)'],
      ['mailboxes[0].email', 'is not an email address'],
    ]);
  });
});

describe('unknown keys and wrong types', () => {
  it('rejects an unknown top-level key, listing the allowed ones', () => {
    const i = onlyIssue('sipp: {}');
    expect(i.path).toBe('sipp');
    expect(i.message).toMatch(/unknown key.*sip, rtp, prompts, storage/);
  });

  it('rejects an unknown key deep inside a list entry', () => {
    const i = onlyIssue('pbx:\n  - name: a\n    addresses: [10.0.0.1]\n    mwi: { targets: ["sip:10.0.0.1"], interval: 5 }\n');
    expect(i.path).toBe('pbx[0].mwi.interval');
  });

  it('says what type was expected, in YAML words', () => {
    expect(onlyIssue('sip: [1]').message).toBe('expected a mapping, got a list');
    expect(onlyIssue('log: { level: 3 }').path).toBe('log.level');
    expect(onlyIssue('shutdown: { drainSeconds: soon }').message).toBe('expected a number, got string "soon"');
  });

  it('rejects a file whose top level is not a mapping', () => {
    expect(onlyIssue('- a\n- b\n').path).toBe('config');
  });
});

describe('reporting', () => {
  it('reports every issue at once, in the order of the file', () => {
    const yaml = [
      'sip:', //                                                       1
      '  listen: ["udp:0.0.0.0:5060", "udp:0.0.0.0:99999"]', //       2
      'rtp: { ports: "20001-29999" }', //                              3
      'pbx:', //                                                       4
      '  - name: mxone', //                                            5
      '    addresses: ["192.168.222.10", "x", "192.168.222.300"]', //  6
      'log: { level: chatty }', //                                     7
      'color: blue', //                                                8
    ].join('\n');
    const issues = issuesOf(yaml);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['sip.listen[1]', 2],
      ['rtp.ports', 3],
      ['pbx[0].addresses[1]', 6],
      ['pbx[0].addresses[2]', 6],
      ['log.level', 7],
      ['color', 8],
    ]);
  });

  it('points at the column of the bad value', () => {
    const i = onlyIssue('pbx:\n  - name: a\n    addresses: [10.0.0.1, bogus]\n');
    expect([i.line, i.column]).toEqual([3, 27]);
    expect(formatIssue(i)).toBe('pbx[0].addresses[1]: "bogus" is not an IP address or CIDR block (line 3:27)');
  });

  it('reports a YAML syntax error with its line and column', () => {
    const i = onlyIssue('sip:\n  listen: ["udp:0.0.0.0:5060"\nrtp: {}\n');
    expect(i.path).toBe('yaml');
    expect(i.line).toBeGreaterThanOrEqual(2);
    expect(i.column).toBeGreaterThanOrEqual(1);
  });

  it('reports a key written twice', () => {
    const i = onlyIssue('log: { level: info }\nlog: { level: debug }\n');
    expect(i.path).toBe('yaml');
    expect(i.line).toBe(2);
  });

  it('explains an unquoted *43 (YAML reads it as an alias)', () => {
    const i = onlyIssue('services:\n  echo: [*43]\n');
    expect(i.path).toBe('yaml');
    expect(i.message).toContain('"*43"');
    expect(i.line).toBe(2);
  });

  it('makes the error message one line per issue', () => {
    const err = (() => {
      try {
        parseConfig('a: 1\nb: 2\n', BASE);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    // The list of allowed keys grows with each config section; what matters here is one line per issue.
    expect(err.message.split('\n')).toEqual([expect.stringMatching(/^a: unknown key \(allowed here: sip, rtp, prompts, [a-zA-Z, ]+\) \(line 1:1\)$/), expect.stringMatching(/^b: /)]);
  });
});

describe('files and paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-config-'));
  mkdirSync(join(dir, 'tls'));
  // A real certificate and key: every config check reads what the TLS files hold.
  copyFileSync(tlsFixture().certFile, join(dir, 'tls', 'server.crt'));
  copyFileSync(tlsFixture().keyFile, join(dir, 'tls', 'server.key'));

  it('resolves storage.dir and TLS files against the config file\'s folder', () => {
    const c = parseConfig('storage: { dir: spool }\nsip:\n  tls: { cert: tls/server.crt, key: ./tls/server.key }\n', dir);
    expect(c.storage.dir).toBe(join(dir, 'spool'));
    expect(c.sip.tls).toMatchObject({ cert: join(dir, 'tls/server.crt'), key: join(dir, 'tls/server.key'), requireClientCert: false });
  });

  it('keeps absolute paths as written', () => {
    expect(parseConfig('storage: { dir: /var/lib/vmpilot }', dir).storage.dir).toBe('/var/lib/vmpilot');
  });

  it('names a missing TLS file by its resolved path', () => {
    const issues = issuesOf('sip:\n  tls: { cert: tls/server.crt, key: tls/server.key, ca: tls/pbx-ca.crt }\n', dir);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('sip.tls.ca');
    expect(issues[0]!.message).toBe(`cannot read ${join(dir, 'tls/pbx-ca.crt')}: no such file`);
  });

  it('reports a missing TLS file together with the other issues', () => {
    const paths = issuesOf('sip:\n  tls: { cert: gone.crt, key: tls/server.key }\nrtp: { ports: "1-2" }\n', dir).map((i) => i.path);
    expect(paths).toEqual(['sip.tls.cert', 'rtp.ports']);
  });

  it('rejects a folder where a TLS file should be', () => {
    expect(issuesOf('sip:\n  tls: { cert: tls, key: tls/server.key }\n', dir)[0]!.message).toMatch(/not a regular file/);
  });

  it('loadConfig without a file gives the defaults, storage under the working directory', async () => {
    const c = await loadConfig();
    expect(c.storage.dir).toBe(join(process.cwd(), 'data'));
    expect(c.sip.listen).toHaveLength(2);
  });

  it('loadConfig resolves relative paths against the file\'s folder, not the working directory', async () => {
    const file = join(dir, 'vmpilot.yaml');
    writeFileSync(file, 'storage: { dir: ./voicemail }\n');
    expect((await loadConfig(file)).storage.dir).toBe(join(dir, 'voicemail'));
  });

  it('loadConfig turns a missing file into a ConfigError naming it', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(loadConfig(missing)).rejects.toMatchObject({ issues: [{ path: 'config', message: `cannot read ${missing}: no such file` }] });
  });
});

describe('checkTlsMaterial', () => {
  const tls = tlsFixture();

  it('accepts a certificate with its own key and a CA', () => {
    expect(checkTlsMaterial({ cert: tls.certFile, key: tls.keyFile, ca: tls.caFile, requireClientCert: true })).toEqual([]);
  });

  it('rejects a key that belongs to another certificate', () => {
    const caKey = join(tls.dir, 'ca.key');
    expect(checkTlsMaterial({ cert: tls.certFile, key: caKey, requireClientCert: false })).toEqual([
      { path: 'sip.tls.key', message: `${caKey} is not the private key of the certificate in ${tls.certFile}` },
    ]);
  });

  it('rejects files that hold no PEM certificate or key', () => {
    const junk = join(tls.dir, 'junk.pem');
    writeFileSync(junk, 'hello\n');
    const issues = checkTlsMaterial({ cert: junk, key: junk, ca: junk, requireClientCert: false });
    expect(issues.map((i) => i.path)).toEqual(['sip.tls.cert', 'sip.tls.key', 'sip.tls.ca']);
  });
});

describe('examples/vmpilot.yaml', () => {
  it('is a valid config (the README points operators at it)', async () => {
    const config = await loadConfig(join(import.meta.dirname, '../../examples/vmpilot.yaml'));
    expect(config.services.voicemail).toEqual(['43334']);
    expect(config.pbx.map((p) => p.name)).toEqual(['mxone']);
    expect(config.mailboxes.map((m) => m.pin)).toEqual(['1234', '0042']);
  });

  it('has an attendant on 43333 with a business-hours menu and an after-hours menu', async () => {
    const config = await loadConfig(join(import.meta.dirname, '../../examples/vmpilot.yaml'));
    expect(config.attendants.map((a) => [a.pilots, a.timeZone, a.menu])).toEqual([[['43333'], 'Europe/Stockholm', 'closed']]);
    expect(config.attendants[0]!.schedules.map((r) => r.menu)).toEqual(['closed', 'main']);
    expect(config.pbx[0]!.transfer).toBe('refer');
  });
});

describe('voicemail.keys (the owner key map, issue 4)', () => {
  /** Path and message of every issue, in file order. */
  const problems = (yaml: string): string[] => issuesOf(yaml).map((i) => `${i.path}: ${i.message}`);

  it("is issue 4's default map when the config says nothing", () => {
    expect(parseConfig('', BASE).voicemail.keys).toEqual(DEFAULT_KEYMAP);
  });

  it('moves save to 2 and leaves every other key where issue 4 puts it', () => {
    const keys = parseConfig('voicemail:\n  keys:\n    message: { save: "2" }\n', BASE).voicemail.keys;
    expect(keys.message).toEqual({ ...DEFAULT_KEYMAP.message, save: '2' });
    expect(keys.main).toEqual(DEFAULT_KEYMAP.main);
  });

  it('takes an unquoted digit (YAML reads it as a number) as that key', () => {
    expect(parseConfig('voicemail: { keys: { main: { listen: 3 } } }', BASE).voicemail.keys.main.listen).toBe('3');
  });

  it('accepts two actions swapping keys (save on 5, repeat on 9)', () => {
    const keys = parseConfig('voicemail: { keys: { message: { save: "5", repeat: "9" } } }', BASE).voicemail.keys;
    expect([keys.message.save, keys.message.repeat]).toEqual(['5', '9']);
  });

  it("rejects a key moved onto another action's default key, naming that action", () => {
    expect(problems('voicemail:\n  keys:\n    message: { save: "5" }\n')).toEqual([
      'voicemail.keys.message.save: "5" is already the key of message.repeat (its default; give repeat another key too)',
    ]);
  });

  it('rejects two actions given the same key, at the later one', () => {
    const i = onlyIssue('voicemail:\n  keys:\n    folder: { new: "2", saved: "2" }\n');
    expect(i.path).toBe('voicemail.keys.folder.saved');
    expect(i.message).toBe('"2" is also the key of folder.new');
    expect(i.line).toBe(3);
  });

  it('allows one key in two different menus', () => {
    const keys = parseConfig('voicemail: { keys: { main: { exit: "9" }, folder: { saved: "9" } } }', BASE).voicemail.keys;
    expect([keys.main.exit, keys.folder.saved, keys.message.save]).toEqual(['9', '9', '9']);
  });

  it('reports an unknown menu, an unknown action and keys not on a keypad, each at its path, all at once', () => {
    const yaml = [
      'voicemail:', //                                    1
      '  keys:', //                                       2
      '    inbox: { save: "2" }', //                      3
      '    message: { archive: "2", delete: "22" }', //  4
      '    main: { exit: "A", help: 10 }', //             5
    ].join('\n');
    expect(issuesOf(yaml).map((i) => [i.path, i.line])).toEqual([
      ['voicemail.keys.inbox', 3],
      ['voicemail.keys.message.archive', 4],
      ['voicemail.keys.message.delete', 4],
      ['voicemail.keys.main.exit', 5],
      ['voicemail.keys.main.help', 5],
    ]);
    const byPath = Object.fromEntries(issuesOf(yaml).map((i) => [i.path, i.message]));
    expect(byPath['voicemail.keys.inbox']).toMatch(/^unknown menu \(menus: main, folder, message, /);
    expect(byPath['voicemail.keys.message.archive']).toMatch(/^unknown action \(actions of message: save, delete, /);
    expect(byPath['voicemail.keys.message.delete']).toBe('"22" is not a key (one of 0-9, * and #; quote * and #)');
    expect(byPath['voicemail.keys.main.help']).toBe('10 is not a key (one of 0-9, * and #; quote * and #)');
  });

  it('rejects an unquoted # (a YAML comment, so no key at all) instead of ignoring the entry', () => {
    const i = onlyIssue('voicemail:\n  keys:\n    message:\n      fastForward: #\n');
    expect(i.path).toBe('voicemail.keys.message.fastForward');
    expect(i.message).toMatch(/has no key/);
  });

  it('rejects a menu that is not a mapping of actions', () => {
    expect(problems('voicemail: { keys: { review: ["1"] } }')).toEqual(['voicemail.keys.review: expected a mapping of actions to keys, e.g. { accept: "1" }']);
  });
});

describe('media policy keys', () => {
  it('reads per-PBX DTMF sources and SRTP policy, and the no-RTP timeout', () => {
    const c = parseConfig(
      ['rtp: { noRtpTimeoutS: 0 }', 'pbx:', '  - name: avaya', '    addresses: [10.0.0.1]', '    dtmf: { info: false, inband: true }', '    srtp: required'].join('\n'),
      BASE,
    );
    expect(c.rtp.noRtpTimeoutS).toBe(0);
    expect(c.pbx[0]!.dtmf).toEqual({ rfc4733: true, info: false, inband: true });
    expect(c.pbx[0]!.srtp).toBe('required');
  });

  it('rejects an unknown SRTP policy and a DTMF mode that is not true, false or "auto"', () => {
    const issues = issuesOf('pbx:\n  - { name: a, addresses: [10.0.0.1], srtp: maybe, dtmf: { inband: sometimes } }\n');
    expect(issues.map((i) => `${i.path}: ${i.message}`).sort()).toEqual([
      'pbx[0].dtmf.inband: must be true, false or "auto"',
      'pbx[0].srtp: must be off, offered or required',
    ]);
  });

  it('resolves prompts.dir against the config folder, and defaults to the package prompts', () => {
    const base = mkdtempSync(join(tmpdir(), 'vmpilot-prompts-'));
    mkdirSync(join(base, 'my-prompts', 'en-GB'), { recursive: true });
    writeFileSync(join(base, 'my-prompts', 'en-GB', 'prompts.yaml'), 'goodbye: Goodbye.\n');
    expect(parseConfig('prompts: { dir: ./my-prompts, language: en-GB }', base).prompts).toEqual({ dir: `${base}/my-prompts`, language: 'en-GB' });
    expect(parseConfig('{}', BASE).prompts.dir).toMatch(/\/prompts$/);
  });
});

describe('PIN back-off and MWI subscription limits (issue 9 items 4 and 5)', () => {
  it('keeps voicemail.lockAfter (now the per-mailbox back-off threshold) and reads voicemail.pinBackoff', () => {
    const c = parseConfig(
      'voicemail: { lockAfter: 5, pinBackoff: { sourceAfter: 4, sharedSourceAfter: 40, sharedSourceWindowMinutes: 20, firstDelayS: 1, maxDelayS: 30, forgetMinutes: 5 } }',
      BASE,
    );
    expect(pinBackoffPolicy(c.voicemail)).toEqual({
      sourceAfter: 4,
      sharedSourceAfter: 40,
      sharedSourceForgetAfterMs: 30_000,
      mailboxAfter: 5,
      firstDelayMs: 1000,
      maxDelayMs: 30_000,
      forgetAfterMs: 300_000,
    });
    expect(pinBackoffPolicy(parseConfig('', BASE).voicemail)).toEqual(DEFAULT_PIN_BACKOFF);
  });

  it('reads the subscription limits, with defaults', () => {
    expect(parseConfig('mwi: { maxSubscriptionsPerMailbox: 3 }', BASE).mwi).toMatchObject({ maxSubscriptions: 10_000, maxSubscriptionsPerSource: 1_000, maxSubscriptionsPerMailbox: 3 });
  });

  it('mwi.resendOnStart: true by default, false, or "all"; nothing else', () => {
    expect(parseConfig('', BASE).mwi.resendOnStart).toBe(true);
    expect(parseConfig('mwi: { resendOnStart: all }', BASE).mwi.resendOnStart).toBe('all');
    expect(parseConfig('mwi: { resendOnStart: false }', BASE).mwi.resendOnStart).toBe(false);
    expect(onlyIssue('mwi: { resendOnStart: changed }\n').path).toBe('mwi.resendOnStart');
  });

  it('rejects an unknown back-off key and a limit of 0', () => {
    const issues = issuesOf('voicemail: { pinBackoff: { lockForever: true } }\nmwi: { maxSubscriptions: 0 }\n');
    expect(issues.map((i) => i.path).sort()).toEqual(['mwi.maxSubscriptions', 'voicemail.pinBackoff.lockForever']);
  });
});
