/**
 * The config file's schema (DESIGN.md, "the operator's contract"): every key optional, unknown keys an error at
 * any depth, compact strings ("udp:0.0.0.0:5060", "20000-29999") turned into the normalized `Config` that
 * server code reads. Checks that need the file system (TLS files) and path resolution live in load.ts; this
 * module is pure.
 */
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { attendantsSchema, checkAttendantPilots, type AttendantConfig } from './attendant-schema.js';
import { directorySchema, type DirectoryConfig } from './directory-schema.js';
import { imapLoginSchema, unifiedMessagingSchema, type ImapLogin, type UnifiedMessagingConfig } from './unified-schema.js';
import type { SrtpPolicy } from '../sdp/types.js';
import type { RtpIoChoice } from '../media/rtp-socket.js';
import { actionsOf, DEFAULT_KEYMAP, MENU_NAMES, resolveKeyMap, type KeyMap, type MenuName } from '../apps/voicemail/keymap.js';
import {
  checkAddressOrCidr,
  checkBindAddress,
  checkSipUri,
  DIAL_STRING,
  HTTP_TOKEN_NAME,
  parseAdvertise,
  parseListenSpec,
  parsePortRange,
  parseMediaAdvertise,
  parseHostPort,
  PIN,
  type ListenSpec,
  type Parsed,
} from './fields.js';

export type { ListenSpec, ListenTransport } from './fields.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface TlsConfig {
  /** Absolute path of the PEM certificate chain we present. */
  cert: string;
  /** Absolute path of its PEM private key (unencrypted). */
  key: string;
  /** Absolute path of the PEM CA bundle that client certificates must chain to. */
  ca?: string;
  /** Refuse TLS clients that present no certificate signed by `ca`. Default false. */
  requireClientCert: boolean;
  /** OpenSSL cipher list (TLS 1.2 suites and TLS 1.3 suite names). Default: forward-secret AEAD suites only. */
  ciphers: string;
  /** Oldest TLS version accepted and offered. Default TLSv1.2. */
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Stream connection limits (sip.limits): what one stranger can hold of the server. */
export interface SipLimitsConfig {
  /** Stream connections (TCP and TLS, handshakes in progress included) at most. */
  maxConnections: number;
  /** Of those, from one untrusted source address at most. */
  maxConnectionsPerSource: number;
  /** Of maxConnections, this many are kept for trusted sources and our own outbound connections. */
  reservedForTrusted: number;
  /**
   * A message on a stream (header section and body) must be complete this long after its first byte, and a
   * stranger's new connection must send its first message this long after it was accepted; else it is closed
   * (slow-loris).
   */
  messageTimeoutS: number;
  /** A header section longer than this is a framing error (the connection is closed). */
  maxHeaderBytes: number;
  /** A TLS handshake not done within this time is abandoned and its socket closed. */
  tlsHandshakeTimeoutS: number;
  /** New TCP/TLS connections one untrusted source may open per second (twice as many at once); 0: no limit. */
  newConnectionsPerSourcePerSecond: number;
  /**
   * IPv6 sources in one network of this prefix length count as one source for every per-source limit
   * (connections, rate, SUBSCRIBE caps, the PIN back-off): a host given a /64 is one source. Default 64.
   */
  ipv6PrefixLength: number;
}

export interface PbxConfig {
  /** Unique name, used in logs. */
  name: string;
  /** Source addresses (IPv4/IPv6, or CIDR blocks) trusted as this PBX. */
  addresses: string[];
  /**
   * Further addresses (or CIDR blocks) this PBX's RTP may come from: its media gateways, SBCs, media anchors.
   * RTP is only taken from these, `addresses`, and the SDP's c= address (media/rtp-receiver.ts).
   */
  mediaAddresses: string[];
  /** Unsolicited NOTIFY message-summary goes to these URIs, tried in order. */
  mwi?: { targets: string[] };
  /** Digest credentials we answer this PBX's 401/407 challenges with. */
  auth?: { username: string; password: string; realm?: string };
  /** Keypad digit sources taken from this PBX (in-band 'auto': only when no telephone-event was negotiated). */
  dtmf: { rfc4733: boolean; info: boolean; inband: boolean | 'auto' };
  /**
   * SRTP (SDES): off = plain RTP only; offered = SRTP when the PBX offers it; required = SRTP only, a plain
   * offer gets 488 (Avaya's "Enforce Secure RTP").
   */
  srtp: SrtpPolicy;
  /** How the attendant transfers calls from this PBX: REFER (RFC 3515), or a new call bridged by vmpilot. */
  transfer: 'refer' | 'supervised';
  /**
   * What we send while recording a caller with nothing to play: `silence` every 20 ms, `keepalive` one silence
   * packet a second (NAT bindings and media timeouts stay alive), or `none` (RTCP only).
   */
  rtpWhileRecording: 'silence' | 'keepalive' | 'none';
}

export interface MailboxConfig {
  number: string;
  pin: string;
  name: string;
  email?: string;
  /** Further numbers that reach this mailbox. */
  aliases: string[];
  /** Left out of the attendant's dial-by-name directory. */
  hideFromDirectory: boolean;
  /** Attach the message's WAV to new-message emails; absent: the store's setting stands (default off). */
  attachAudio?: boolean;
  /** This mailbox's quotas (0 = the site's voicemail.maxMessages/maxMinutes); absent: the store's stand. */
  maxMessages?: number;
  maxMinutes?: number;
  /** This mailbox's own IMAP login for unified messaging (instead of unifiedMessaging.imap.master). */
  imap?: ImapLogin;
}

/** The voicemail application's site policy (issue 4). */
export interface VoicemailConfig {
  /** Which Diversion entry names the mailbox: the top-most (who sent the call here) or the original called party. */
  diversion: 'top' | 'original';
  /** Longest message, s. */
  maxMessageS: number;
  /** Silence that ends a message, s. */
  silenceS: number;
  /** Shorter recordings are not kept (the caller said nothing), ms. */
  minMessageMs: number;
  /** Offer the caller "1 send, 2 listen, 3 re-record, 4 urgent, * cancel" after recording. */
  reviewMenu: boolean;
  /** Where '0' during a greeting goes (a number to transfer to); absent: the attendant pilot if any. */
  operator?: string;
  /**
   * Wrong PINs on one mailbox (from any caller) after which its PIN entries are slowed (the back-off of
   * store/pin-backoff.ts). Kept from the time it locked the mailbox; it no longer locks anything.
   */
  lockAfter: number;
  /**
   * The PIN back-off: per caller threshold, the shared source's (a PBX's) threshold at all mailboxes together and
   * its window, delays, and how fast failures are forgotten.
   */
  pinBackoff: { sourceAfter: number; sharedSourceAfter: number; sharedSourceWindowMinutes: number; firstDelayS: number; maxDelayS: number; forgetMinutes: number };
  /** Quotas applied to every mailbox: messages (new+saved) and minutes; 0 = no limit. */
  maxMessages: number;
  maxMinutes: number;
  /** Retention of new and saved messages, days; 0 = forever. */
  retainNewDays: number;
  retainSavedDays: number;
  /** Time zone used to say dates and times of messages (IANA name). */
  timeZone: string;
}

/**
 * The mailbox owner's keys (voicemail.keys): issue 4's defaults with the site's changes laid over them
 * (apps/voicemail/keymap.ts resolveKeyMap). Kept beside VoicemailConfig rather than in it: the app is given
 * it as VoicemailContext.keys.
 */
export interface VoicemailKeysConfig {
  keys: KeyMap;
}

export interface MwiConfig {
  /**
   * At start-up (and on taking MWI leadership): true sends each mailbox whose state a PBX has not acknowledged
   * (mwi/ack-ledger.ts); 'all' every mailbox's state (a PBX that loses its lamps when it restarts); false none.
   */
  resendOnStart: boolean | 'all';
  /** Unsolicited NOTIFYs started per second at most (news first, the resend after: mwi/rate-gate.ts). */
  notifyRatePerSecond: number;
  /** Digest credentials required from SUBSCRIBE requests (absent: trusted sources may subscribe freely). */
  subscribeAuth?: { realm: string; username: string; password: string };
  /** Live SUBSCRIBE subscriptions at most: in total, from one source address, to one mailbox (mwi/subscription-limits.ts). */
  maxSubscriptions: number;
  maxSubscriptionsPerSource: number;
  maxSubscriptionsPerMailbox: number;
}

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  from: string;
  auth?: { user: string; pass: string };
  /** Attempts per mail before it is given up (logged). Default 8. */
  maxAttempts?: number;
  /** First retry delay after a temporary failure, ms; doubles after each failure. Default 30 000. */
  retryBaseMs?: number;
  /** Longest retry delay, ms. Default 900 000 (15 min). */
  maxRetryDelayMs?: number;
}

export interface Config {
  sip: {
    listen: ListenSpec[];
    tls?: TlsConfig;
    /** Host or IP put in Contact/Via instead of the local address (behind NAT). */
    advertise?: string;
    userAgent: string;
    /** What requests from untrusted sources get: 403, or no answer at all. */
    strangers: 'reject' | 'ignore';
    timers: { t1Ms: number; t2Ms: number; t4Ms: number };
    sessionExpiresS: number;
    /** Per untrusted source; `trusted` (absent: unlimited) per trusted PBX address. */
    rateLimit: { perSourcePerSecond: number; burst: number; trusted?: { perSourcePerSecond: number; burst: number } };
    limits: SipLimitsConfig;
  };
  rtp: {
    address: string;
    /** The address written in our SDP c= line (NAT, bridged Docker, Kubernetes); absent: the bound or local one. */
    advertise?: string;
    portMin: number;
    portMax: number;
    /** Hang up an answered call when no RTP arrives for this long (not while held); 0 never. */
    noRtpTimeoutS: number;
    /** RTP socket I/O: native batch I/O (native/rtp-io) or Node's dgram; auto: native when built. */
    io: RtpIoChoice;
    /** SCHED_FIFO priority of the thread that paces RTP (media/realtime-priority.ts); 0: an ordinary thread. */
    realtimePriority: number;
  };
  /** Prompt language and the folder holding prompts/<language>/ (default: the package's own). */
  prompts: { language: string; dir: string };
  /** Absolute once loaded (load.ts resolves it against the config file's folder). */
  storage: {
    dir: string;
    /**
     * postgres:// or postgresql:// URL of a PostgreSQL database holding the whole store (store/postgres.ts);
     * absent: SQLite under dir. With a URL, dir still holds recordings in progress and the audio cache.
     */
    url?: string;
  };
  services: {
    voicemail: string[];
    attendant: string[];
    echo: string[];
    /** Ring (180) this long before answering a pilot; 0 answers at once. */
    answerDelayMs: number;
  };
  /** Empty: calls are accepted from loopback only. */
  pbx: PbxConfig[];
  mailboxes: MailboxConfig[];
  /**
   * How `mailboxes` and the store coexist (README "Mailboxes: config file and store"). seed (default): the
   * config's mailboxes are created and their fields applied at start; mailboxes only in the store are kept
   * (`vmpilot check` lists them). authoritative: the same, and `vmpilot mailbox prune --yes` deletes the
   * store's mailboxes that the config does not list (never at start, never without --yes).
   */
  mailboxesFromConfig: 'seed' | 'authoritative';
  voicemail: VoicemailConfig & VoicemailKeysConfig;
  /** Auto-attendant menus per pilot (attendant-schema.ts); empty: every pilot gets the default menu. */
  attendants: AttendantConfig[];
  mwi: MwiConfig;
  /** Email notification of new messages; absent: no email. */
  smtp?: SmtpConfig;
  /** Voicemail in the owner's IMAP mailbox, read state both ways (src/unified/, unified-schema.ts). */
  unifiedMessaging: UnifiedMessagingConfig;
  log: { level: LogLevel };
  shutdown: { drainSeconds: number };
  /** Call records (call-records/): how long they are kept, days; purged daily. */
  callRecords: { retentionDays: number };
  /** Absent: one process serves every call (single-process mode). Present: the 302 front door (cluster/). */
  cluster?: ClusterConfig;
  limits: LimitsConfig;
  /** The admin HTTP API, /metrics, /healthz, /readyz and the web admin (src/http/). */
  http: HttpConfig;
  /** Mailboxes synced from an LDAP directory (directory-schema.ts, src/directory/); absent: none. */
  directory?: DirectoryConfig;
}

/** One admin API token (http.tokens): who it is, and the hash of the secret (src/http/tokens.ts). */
export interface HttpTokenConfig {
  /** Written in the log of every request made with it. */
  name: string;
  /** "sha256:<64 hex>" of the token (`vmpilot http token NAME` prints both). */
  hash: string;
}

export interface HttpConfig {
  /** false: no HTTP listener at all (`http: false`). */
  enabled: boolean;
  /** Address and port to bind; port 0 picks a free port (tests). */
  listen: { host: string; port: number };
  /** Serve HTTPS with this certificate and key (absolute paths once loaded). */
  tls?: { cert: string; key: string };
  tokens: HttpTokenConfig[];
  /** Largest request body (greeting uploads included), bytes. */
  maxBodyBytes: number;
  /**
   * Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For / X-Forwarded-Proto / X-Forwarded-Host
   * are believed: the client's address is then the one the nearest trusted proxy reports. false (the default):
   * the headers are ignored and the client is the socket's peer (anyone could write them otherwise).
   */
  trustProxy: false | string[];
  /** Sockets at most, in all and from one source (connection-limits.ts); a tenth of the total is kept for local probes and proxies. */
  maxConnections: number;
  maxConnectionsPerSource: number;
  /** A request's header section must arrive within this time (slow or silent clients are closed). */
  headersTimeoutS: number;
}

/** The 302 front door and its workers (DESIGN.md, "Scaling: the 302 front door"). */
export interface ClusterConfig {
  /** Local worker processes: a number (0: remote workers only), or 'auto' = one per core. */
  workers: number | 'auto';
  /**
   * Port of the first local worker; worker k listens on basePort + k * (distinct ports in sip.listen) + j for
   * the j-th distinct listen port. Absent: the first listen port + 5 (5060 → 5065, as Exchange UM's 5065).
   * 0: each worker takes free ports and reports them (tests).
   */
  basePort?: number;
  /** Workers on other hosts, each a SIP URI ("sip:10.0.0.5:5065;transport=tcp"), health-checked by OPTIONS. */
  remote: string[];
}

export interface LimitsConfig {
  /** Calls one process (one worker) carries at once; the next INVITE gets 503 with Retry-After. */
  maxCalls: number;
}

/** A mapping whose unknown keys are errors; the message lists the keys that are allowed. */
function section<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key (allowed here: ${allowed})` : undefined),
  });
}

/** A string field run through one of the fields.ts parsers. */
function parsedString<T>(parse: (text: string) => Parsed<T>) {
  return z.string().transform((text, ctx): T => {
    const r = parse(text);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.message, input: text });
    return z.NEVER;
  });
}

function checkedString(check: (text: string) => string | undefined) {
  return z.string().superRefine((text, ctx) => {
    const message = check(text);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: text });
  });
}

/**
 * A number as dialled. YAML reads `8000` as a number, so plain non-negative integers are accepted and turned
 * into strings; numbers written with a leading zero or + are kept as written by load.ts before we see them.
 */
function dialString(pattern: RegExp, what: string) {
  return z.union([z.string(), z.number()], { error: `expected ${what}` }).transform((v, ctx): string => {
    const text = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
    if (typeof text === 'string' && pattern.test(text)) return text;
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not ${what}`, input: v });
    return z.NEVER;
  });
}

const dialNumber = dialString(DIAL_STRING, 'a number (digits, * and #, optionally after +)');
const nonEmpty = z.string().min(1, 'must not be empty');
const positiveMs = z.number().int().min(1, 'must be at least 1 ms');

/** Issue paths relative to the schema being refined, e.g. ['listen', 1]. */
type Path = (string | number)[];

/*
 * Cross-field checks (duplicates, one numbering plan) run even when other fields have issues, so that every
 * issue is reported at once. They then see a partly parsed value: each check looks only at the entries that
 * parsed, through these guards.
 */
const isParsed = (v: unknown): v is object => typeof v === 'object' && v !== null;
/** A listen entry that parsed (a failed one holds zod's NEVER marker, also an object). */
const isListenSpec = (v: unknown): v is ListenSpec => isParsed(v) && typeof (v as Partial<ListenSpec>).port === 'number';
const isMapping = (payload: z.core.ParsePayload): boolean =>
  isParsed(payload.value) && !Array.isArray(payload.value);
const strings = (v: unknown): (string | undefined)[] =>
  Array.isArray(v) ? v.map((s) => (typeof s === 'string' ? s : undefined)) : [];

const listenSchema = z
  .array(parsedString(parseListenSpec))
  .min(1, 'needs at least one listener')
  .superRefine(
    (list, ctx) => {
      const seen = new Map<string, number>();
      list.forEach((l, i) => {
        if (!isListenSpec(l) || l.port === 0) return; // Each port-0 listener gets its own free port.
        // TLS runs over TCP: tcp and tls on one address and port would fight over the socket.
        const key = `${l.transport === 'udp' ? 'udp' : 'tcp'}|${l.host}|${l.port}`;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else ctx.addIssue({ code: 'custom', path: [i], message: `same socket as sip.listen[${first}]`, input: l });
      });
    },
    { when: (payload) => Array.isArray(payload.value) },
  )
  .prefault(() => [...DEFAULTS.listen]);

/** An OpenSSL cipher list this Node.js accepts (TLS 1.2 names and TLS 1.3 suite names, ':'-separated). */
function checkCipherList(text: string): string | undefined {
  if (text.length === 0) return 'must not be empty';
  try {
    createSecureContext({ ciphers: text });
    return undefined;
  } catch (err) {
    return `OpenSSL accepts no cipher in "${text}" (${(err as Error).message})`;
  }
}

const tlsSchema = section({
  cert: nonEmpty,
  key: nonEmpty,
  ca: nonEmpty.optional(),
  requireClientCert: z.boolean().default(false),
  ciphers: checkedString(checkCipherList).default(DEFAULTS.tlsCiphers),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default(DEFAULTS.tlsMinVersion),
});

const rateSchema = {
  perSourcePerSecond: z.number().positive('must be above 0').default(DEFAULTS.rateLimit.perSourcePerSecond),
  burst: z.number().int().min(1, 'must be at least 1').default(DEFAULTS.rateLimit.burst),
};

const positiveInt = z.number().int().min(1, 'must be at least 1');

const limitsSchema = section({
  maxConnections: positiveInt.default(DEFAULTS.limits.maxConnections),
  maxConnectionsPerSource: positiveInt.default(DEFAULTS.limits.maxConnectionsPerSource),
  // Absent: a tenth of maxConnections, at most 1000.
  reservedForTrusted: z.number().int().min(0, 'must be at least 0').optional(),
  messageTimeoutS: z.number().positive('must be above 0').default(DEFAULTS.limits.messageTimeoutS),
  maxHeaderBytes: z.number().int().min(1024, 'must be at least 1024').max(65535, 'must be at most 65535').default(DEFAULTS.limits.maxHeaderBytes),
  tlsHandshakeTimeoutS: z.number().positive('must be above 0').default(DEFAULTS.limits.tlsHandshakeTimeoutS),
  ipv6PrefixLength: z.number().int().min(1, 'must be at least 1').max(128, 'must be at most 128').default(DEFAULTS.limits.ipv6PrefixLength),
  newConnectionsPerSourcePerSecond: z.number().min(0, 'must be 0 (no limit) or more').default(DEFAULTS.limits.newConnectionsPerSourcePerSecond),
})
  .transform((l, ctx): SipLimitsConfig => {
    const reservedForTrusted = l.reservedForTrusted ?? Math.min(1000, Math.floor(l.maxConnections / 10));
    if (reservedForTrusted >= l.maxConnections) {
      ctx.addIssue({ code: 'custom', path: ['reservedForTrusted'], message: `must be below maxConnections (${l.maxConnections})`, input: l });
    }
    return { ...l, reservedForTrusted };
  })
  .prefault({});

const sipSchema = section({
  listen: listenSchema,
  tls: tlsSchema.optional(),
  advertise: parsedString(parseAdvertise).optional(),
  userAgent: nonEmpty
    .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII on one line')
    .default(DEFAULTS.userAgent),
  strangers: z.enum(['reject', 'ignore']).default(DEFAULTS.strangers),
  timers: section({
    t1Ms: positiveMs.default(DEFAULTS.timers.t1Ms),
    t2Ms: positiveMs.default(DEFAULTS.timers.t2Ms),
    t4Ms: positiveMs.default(DEFAULTS.timers.t4Ms),
  })
    .superRefine((t, ctx) => {
      // RFC 3261 §17.1.2.2: non-INVITE retransmits double "up to T2"; a T2 below T1 makes no sense.
      if (t.t2Ms < t.t1Ms) ctx.addIssue({ code: 'custom', path: ['t2Ms'], message: `must be at least t1Ms (${t.t1Ms})`, input: t });
    })
    .prefault({}),
  sessionExpiresS: z
    .number()
    .int()
    .min(DEFAULTS.minSessionExpiresS, `must be at least ${DEFAULTS.minSessionExpiresS} (RFC 4028 §4: the Min-SE floor)`)
    .default(DEFAULTS.sessionExpiresS),
  rateLimit: section({ ...rateSchema, trusted: section(rateSchema).optional() }).prefault({}),
  limits: limitsSchema,
})
  .superRefine(
    (sip, ctx) => {
      if (!Array.isArray(sip.listen)) return;
      sip.listen.forEach((l, i) => {
        if (isListenSpec(l) && l.transport === 'tls' && sip.tls === undefined) {
          ctx.addIssue({ code: 'custom', path: ['listen', i], message: 'tls listener needs sip.tls', input: l });
        }
      });
    },
    { when: isMapping },
  )
  .prefault({});

const rtpSchema = section({
  address: checkedString(checkBindAddress).default(DEFAULTS.rtpAddress),
  advertise: parsedString(parseMediaAdvertise).optional(),
  ports: parsedString(parsePortRange).prefault(DEFAULTS.rtpPorts),
  noRtpTimeoutS: z.number().int().min(0, 'must be 0 (never) or more').max(3600, 'must be at most 3600').default(DEFAULTS.noRtpTimeoutS),
  io: z.enum(['auto', 'native', 'dgram'], { error: 'must be auto, native or dgram' }).default('auto'),
  realtimePriority: z.number().int().min(0, 'must be 0 (off) to 99').max(99, 'must be 0 (off) to 99').default(0),
})
  .transform(({ address, advertise, ports, noRtpTimeoutS, io, realtimePriority }) => ({
    address,
    advertise,
    portMin: ports.min,
    portMax: ports.max,
    noRtpTimeoutS,
    io,
    realtimePriority,
  }))
  .prefault({});

const promptsSchema = section({
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en-US').default(DEFAULTS.promptLanguage),
  dir: nonEmpty.default(DEFAULTS.promptsDir),
}).prefault({});

const dtmfSchema = section({
  rfc4733: z.boolean().default(DEFAULTS.dtmf.rfc4733),
  info: z.boolean().default(DEFAULTS.dtmf.info),
  inband: z.union([z.boolean(), z.literal('auto')], { error: 'must be true, false or "auto"' }).default(DEFAULTS.dtmf.inband),
}).prefault({});

/** A PostgreSQL connection URL (libpq's URI form, as `pg` reads it). */
const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.pathname.length > 1;
  } catch {
    return false;
  }
}, 'must be a postgres:// or postgresql:// URL naming a database (postgres://user:password@host:5432/vmpilot)');

const storageSchema = section({ dir: nonEmpty.default(DEFAULTS.storageDir), url: postgresUrl.optional() }).prefault({});

const servicesSchema = section({
  voicemail: z.array(dialNumber).default([...DEFAULTS.services.voicemail]),
  attendant: z.array(dialNumber).default([...DEFAULTS.services.attendant]),
  echo: z.array(dialNumber).default([...DEFAULTS.services.echo]),
  answerDelayMs: z.number().int().min(0, 'must be 0 or more').max(60_000, 'must be at most 60000').default(DEFAULTS.answerDelayMs),
}).prefault({});

/** A list whose entries' `name` must differ (entries that did not parse are skipped); `list` names it in messages. */
function uniqueNames(list: string) {
  return (entries: readonly unknown[], ctx: z.RefinementCtx): void => {
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
      const name = isParsed(e) ? (e as { name?: unknown }).name : undefined;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${name}" is already the name of ${list}[${first}]`, input: name });
    });
  };
}

const pbxSchema = z
  .array(
    section({
      name: nonEmpty,
      addresses: z.array(checkedString(checkAddressOrCidr)).min(1, 'needs at least one address'),
      mediaAddresses: z.array(checkedString(checkAddressOrCidr)).default([]),
      mwi: section({ targets: z.array(checkedString(checkSipUri)).min(1, 'needs at least one target') }).optional(),
      auth: section({ username: nonEmpty, password: nonEmpty, realm: nonEmpty.optional() }).optional(),
      dtmf: dtmfSchema,
      srtp: z.enum(['off', 'offered', 'required'], { error: 'must be off, offered or required' }).default(DEFAULTS.srtp),
      transfer: z.enum(['refer', 'supervised'], { error: 'must be refer or supervised' }).default('refer'),
      rtpWhileRecording: z.enum(['silence', 'keepalive', 'none'], { error: 'must be silence, keepalive or none' }).default(DEFAULTS.rtpWhileRecording),
    }),
  )
  .superRefine(uniqueNames('pbx'), { when: (payload) => Array.isArray(payload.value) })
  .default([]);

/**
 * One mailbox's fields as the config writes them. `vmpilot mailbox set`, the CSV import and the HTTP API
 * validate what an administrator gives with these same schemas, so a value means the same everywhere.
 */
/**
 * A person's name as a mailbox shows it: at most 200 characters and no control characters. A name is listed,
 * exported (CSV), searched, sent in mails and shown in the web admin: before, the API took a 100,000-character
 * name (anything up to its 1 MiB body) and line breaks or NULs in it.
 */
const personName = nonEmpty.max(200, 'must be at most 200 characters').regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters (line breaks, tabs, NUL)');

export const mailboxFields = {
  number: dialNumber,
  pin: dialString(PIN, 'a PIN (4 to 16 digits)'),
  name: personName,
  email: z.email('is not an email address'),
  aliases: z.array(dialNumber),
  hideFromDirectory: z.boolean(),
  attachAudio: z.boolean(),
  /** A mailbox's own quota (messages or minutes): 0 means the site's voicemail.maxMessages/maxMinutes. */
  maxMessages: z.number().int('must be a whole number').min(0, 'must be 0 (the site default) or more').max(1_000_000, 'must be at most 1000000'),
  maxMinutes: z.number().int('must be a whole number').min(0, 'must be 0 (the site default) or more').max(1_000_000, 'must be at most 1000000'),
};

const mailboxesSchema = z
  .array(
    section({
      number: mailboxFields.number,
      pin: mailboxFields.pin,
      name: mailboxFields.name,
      email: mailboxFields.email.optional(),
      aliases: mailboxFields.aliases.default([]),
      hideFromDirectory: mailboxFields.hideFromDirectory.default(false),
      attachAudio: mailboxFields.attachAudio.optional(),
      maxMessages: mailboxFields.maxMessages.optional(),
      maxMinutes: mailboxFields.maxMinutes.optional(),
      imap: imapLoginSchema.optional(),
    }),
  )
  .default([]);

const KEYPAD_KEYS = '0123456789*#';

/** A keypad key as written: "5", "*", "#", or a plain 5 (YAML reads an unquoted 5 as a number). */
function keyText(v: unknown): string | undefined {
  const text = typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 9 ? String(v) : v;
  return typeof text === 'string' && text.length === 1 && KEYPAD_KEYS.includes(text) ? text : undefined;
}

const isKeyMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * voicemail.keys: `{ MENU: { ACTION: KEY } }`, a partial override of the default key map. Every problem is
 * reported at its path (voicemail.keys.message.save): an unknown menu or action, a value that is not one
 * keypad key, and two actions of one menu on one key once the overrides are laid over the defaults (a
 * swap, save on 5 and repeat on 9, is fine). resolveKeyMap then builds the map the app is given.
 */
const voicemailKeysSchema = z.unknown().transform((raw, ctx): KeyMap => {
  const issue = (path: Path, message: string): void => ctx.addIssue({ code: 'custom', path, message, input: raw });
  if (!isKeyMapping(raw)) {
    issue([], 'expected a mapping of menus, e.g. { message: { save: "2" } }');
    return z.NEVER;
  }
  const overrides: Partial<Record<MenuName, Record<string, string>>> = {};
  let valid = true;
  for (const [menu, actions] of Object.entries(raw)) {
    if (!(MENU_NAMES as string[]).includes(menu)) {
      issue([menu], `unknown menu (menus: ${MENU_NAMES.join(', ')})`);
      valid = false;
      continue;
    }
    const names = actionsOf(menu as MenuName) as string[];
    if (!isKeyMapping(actions)) {
      issue([menu], `expected a mapping of actions to keys, e.g. { ${names[0]}: "${(DEFAULT_KEYMAP as Record<string, Record<string, string>>)[menu]![names[0]!]}" }`);
      valid = false;
      continue;
    }
    const given: Record<string, string> = {};
    for (const [action, value] of Object.entries(actions)) {
      const key = keyText(value);
      if (!names.includes(action)) issue([menu, action], `unknown action (actions of ${menu}: ${names.join(', ')})`);
      else if (key === undefined) issue([menu, action], `${JSON.stringify(value)} is not a key (one of 0-9, * and #; quote * and #)`);
      else given[action] = key;
      valid &&= names.includes(action) && key !== undefined;
    }
    // One key, one action: each menu as the caller will have it, the defaults under the overrides.
    const byKey = new Map<string, string>();
    for (const action of names) {
      const key = given[action] ?? (DEFAULT_KEYMAP as Record<string, Record<string, string>>)[menu]![action]!;
      const other = byKey.get(key);
      byKey.set(key, action);
      if (other === undefined) continue;
      valid = false;
      // Report it at an action the file names: the later one, or the one that moved onto a default.
      const [at, held] = action in given ? [action, other] : [other, action];
      const whose = held in given ? `is also the key of ${menu}.${held}` : `is already the key of ${menu}.${held} (its default; give ${held} another key too)`;
      issue([menu, at], `"${key}" ${whose}`);
    }
    overrides[menu as MenuName] = given;
  }
  if (!valid) return z.NEVER;
  try {
    return resolveKeyMap(overrides);
  } catch (err) {
    // The checks above are meant to catch all resolveKeyMap refuses; should they miss one, say it here.
    issue([], err instanceof Error ? err.message : String(err));
    return z.NEVER;
  }
}).default(() => resolveKeyMap());

const voicemailSchema = section({
  diversion: z.enum(['top', 'original'], { error: 'must be top or original' }).default('top'),
  maxMessageS: z.number().int().min(5, 'must be at least 5').max(3600, 'must be at most 3600').default(180),
  silenceS: z.number().int().min(0, 'must be 0 (never) or more').max(60, 'must be at most 60').default(5),
  minMessageMs: z.number().int().min(0, 'must be 0 or more').max(10_000, 'must be at most 10000').default(1000),
  reviewMenu: z.boolean().default(true),
  operator: dialNumber.optional(),
  lockAfter: z.number().int().min(3, 'must be at least 3').max(100, 'must be at most 100').default(10),
  pinBackoff: section({
    sourceAfter: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(3),
    sharedSourceAfter: z.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(20),
    sharedSourceWindowMinutes: z.number().min(1, 'must be at least 1').max(1440, 'must be at most 1440').default(10),
    firstDelayS: z.number().min(0.1, 'must be at least 0.1').max(60, 'must be at most 60').default(2),
    maxDelayS: z.number().min(1, 'must be at least 1').max(600, 'must be at most 600').default(60),
    forgetMinutes: z.number().min(1, 'must be at least 1').max(1440, 'must be at most 1440').default(15),
  }).prefault({}),
  maxMessages: z.number().int().min(0, 'must be 0 (no limit) or more').default(100),
  maxMinutes: z.number().int().min(0, 'must be 0 (no limit) or more').default(0),
  retainNewDays: z.number().int().min(0, 'must be 0 (forever) or more').default(0),
  retainSavedDays: z.number().int().min(0, 'must be 0 (forever) or more').default(0),
  timeZone: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'is not an IANA time zone (e.g. Europe/Stockholm)')
    .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
  keys: voicemailKeysSchema,
}).prefault({});

const mwiSchema = section({
  resendOnStart: z.union([z.boolean(), z.literal('all')]).default(true),
  notifyRatePerSecond: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(50),
  subscribeAuth: section({ realm: nonEmpty, username: nonEmpty, password: nonEmpty }).optional(),
  maxSubscriptions: z.number().int().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000').default(10_000),
  maxSubscriptionsPerSource: z.number().int().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000').default(1_000),
  maxSubscriptionsPerMailbox: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(10),
}).prefault({});

const smtpSchema = section({
  host: nonEmpty,
  port: z.number().int().min(1).max(65535).default(25),
  secure: z.boolean().default(false),
  from: z.email('is not an email address'),
  auth: section({ user: nonEmpty, pass: nonEmpty }).optional(),
  maxAttempts: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(8),
  retryBaseMs: z.number().int().min(10, 'must be at least 10').max(3_600_000, 'must be at most 3600000 (an hour)').default(30_000),
  maxRetryDelayMs: z.number().int().min(10, 'must be at least 10').max(86_400_000, 'must be at most 86400000 (a day)').default(900_000),
}).optional();

const logSchema = section({
  level: z
    .enum(LOG_LEVELS, { error: (iss) => (iss.input === undefined ? undefined : `"${String(iss.input)}" is not a log level (${LOG_LEVELS.join(', ')})`) })
    .default(DEFAULTS.logLevel),
}).prefault({});

const shutdownSchema = section({
  drainSeconds: z.number().int().min(0, 'must be 0 or more').max(86_400, 'must be at most 86400 (a day)').default(DEFAULTS.drainSeconds),
}).prefault({});

const callRecordsSchema = section({
  retentionDays: z.number().int().min(1, 'must be at least 1').max(36_500, 'must be at most 36500 (100 years)').default(90),
}).prefault({});

const clusterSchema = section({
  workers: z
    .union([z.literal('auto'), z.number().int().min(0, 'must be 0 (remote workers only) or more').max(256, 'must be at most 256')], {
      error: 'must be a number of workers or "auto" (one per core)',
    })
    .default('auto'),
  basePort: z.number().int().min(0, 'must be 0 (free ports) or a port').max(65535, 'must be at most 65535').optional(),
  remote: z.array(checkedString(checkSipUri)).default([]),
})
  .superRefine(
    (c, ctx) => {
      if (c.workers === 0 && Array.isArray(c.remote) && c.remote.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['workers'], message: 'is 0 and there are no remote workers: nothing would serve calls', input: c });
      }
    },
    { when: isMapping },
  )
  .optional();

const callLimitsSchema = section({
  maxCalls: z.number().int().min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(DEFAULTS.maxCalls),
}).prefault({});

const httpTokenHash = /^sha256:[0-9a-f]{64}$/;

const httpSectionSchema = section({
  enabled: z.boolean().default(true),
  listen: parsedString(parseHostPort).prefault(DEFAULTS.httpListen),
  tls: section({ cert: nonEmpty, key: nonEmpty }).optional(),
  tokens: z
    .array(
      section({
        name: z.string().regex(HTTP_TOKEN_NAME, 'must be 1 to 64 letters, digits or _ . @ -'),
        hash: z.string().regex(httpTokenHash, 'must be "sha256:" and 64 hex digits (vmpilot http token NAME prints it)'),
      }),
    )
    .superRefine(uniqueNames('http.tokens'), { when: (payload) => Array.isArray(payload.value) })
    .default([]),
  maxBodyBytes: z.number().int().min(1024, 'must be at least 1024').max(1024 ** 3, 'must be at most 1 GiB').default(DEFAULTS.httpMaxBodyBytes),
  // `true` (trust every peer) is refused on purpose: the proxies must be named, or any client could set its own address.
  trustProxy: z.union([z.literal(false), z.array(checkedString(checkAddressOrCidr)).min(1, 'needs at least one address (or false)')]).default(false),
  maxConnections: z.number().int().min(10, 'must be at least 10').default(DEFAULTS.httpMaxConnections),
  maxConnectionsPerSource: z.number().int().min(1, 'must be at least 1').default(DEFAULTS.httpMaxConnectionsPerSource),
  headersTimeoutS: z.number().positive('must be above 0').max(300, 'must be at most 300').default(DEFAULTS.httpHeadersTimeoutS),
});

/** `http: false` switches the listener off (as `enabled: false`); a mapping configures it; absent, the embedded default. */
const httpSchema = z.preprocess((v) => (v === false ? { enabled: false } : v), httpSectionSchema).prefault({});

/**
 * One numbering plan: a number dialled must lead to exactly one place. A pilot number, a mailbox number and an
 * alias may not repeat each other, or the router could not tell which one the caller meant.
 */
function checkNumberingPlan(config: Pick<Config, 'services' | 'mailboxes'>, ctx: z.RefinementCtx): void {
  const owner = new Map<string, string>();
  const claim = (num: string | undefined, path: Path): void => {
    if (num === undefined) return;
    const name = path.map((s, k) => (typeof s === 'number' ? `[${s}]` : k === 0 ? s : `.${s}`)).join('');
    const first = owner.get(num);
    if (first === undefined) owner.set(num, name);
    else ctx.addIssue({ code: 'custom', path, message: `"${num}" is already used by ${first}`, input: num });
  };
  const services: unknown = config.services;
  if (isParsed(services)) {
    for (const service of ['voicemail', 'attendant', 'echo'] as const) {
      strings((services as Record<string, unknown>)[service]).forEach((n, i) => claim(n, ['services', service, i]));
    }
  }
  const mailboxes: unknown[] = Array.isArray(config.mailboxes) ? config.mailboxes : [];
  mailboxes.forEach((m, i) => {
    if (isParsed(m)) claim(strings([(m as Record<string, unknown>).number])[0], ['mailboxes', i, 'number']);
  });
  mailboxes.forEach((m, i) => {
    if (isParsed(m)) strings((m as Record<string, unknown>).aliases).forEach((a, k) => claim(a, ['mailboxes', i, 'aliases', k]));
  });
}

export const configSchema: z.ZodType<Config> = section({
  sip: sipSchema,
  rtp: rtpSchema,
  prompts: promptsSchema,
  storage: storageSchema,
  services: servicesSchema,
  pbx: pbxSchema,
  mailboxes: mailboxesSchema,
  mailboxesFromConfig: z.enum(['seed', 'authoritative']).default('seed'),
  voicemail: voicemailSchema,
  attendants: attendantsSchema,
  mwi: mwiSchema,
  smtp: smtpSchema,
  unifiedMessaging: unifiedMessagingSchema,
  log: logSchema,
  shutdown: shutdownSchema,
  callRecords: callRecordsSchema,
  cluster: clusterSchema,
  limits: callLimitsSchema,
  http: httpSchema,
  directory: directorySchema,
})
  .superRefine(checkNumberingPlan, { when: isMapping })
  .superRefine(checkAttendantPilots, { when: isMapping });
