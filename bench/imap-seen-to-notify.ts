/**
 * Unified messaging figures (issue 12, "what must be shown"), against a throwaway Dovecot
 * (test/helpers/dovecot.ts) and a vmpilot server with unifiedMessaging.imap, a raw UDP PBX as its MWI target:
 *
 * 1. \Seen → NOTIFY: per round, one message is deposited (through a store on the server's folder, as a worker
 *    would), its email awaited in the INBOX and the lamp on; then a mail client (its own IMAP session) sets
 *    \Seen, and the time until the PBX receives "Messages-Waiting: no" is measured. p50/p99/max over --rounds.
 *    The path: Dovecot's IDLE push to the server's held connection → comparison → markHeard → 'counts' →
 *    NOTIFY.
 * 2. Deposit → email in the INBOX (includes the store's change-feed poll, 200 ms, since the deposit is made
 *    by another store instance).
 * 3. Append cost: building the email (the WAV attached) and one IMAP APPEND over one open session, per
 *    deposit, for --audio-ms of audio: what each deposit costs the server off the call path.
 *
 * Run: npx tsx bench/imap-seen-to-notify.ts [--rounds 100] [--audio-ms 20000]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ImapFlow } from 'imapflow';
import { openSqliteStore } from '../src/store/sqlite.js';
import { messageEmail } from '../src/unified/message-email.js';
import { MASTER_PASSWORD, MASTER_USER, startDovecot } from '../test/helpers/dovecot.js';
import { MwiPbx } from '../test/helpers/mwi-pbx.js';
import { newMessage, recordingIn } from '../test/helpers/store-fixture.js';
import { startTestServer } from '../test/helpers/test-server.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '100' }, 'audio-ms': { type: 'string', default: '20000' } } });
const ROUNDS = Number(args.rounds);
const AUDIO_MS = Number(args['audio-ms']);
const ALICE = 'alice@example.com';

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const summary = (label: string, values: number[]): string => {
  const s = [...values].sort((a, b) => a - b);
  return `${label}: n=${s.length} p50=${percentile(s, 50).toFixed(1)} ms p99=${percentile(s, 99).toFixed(1)} ms max=${(s[s.length - 1] ?? NaN).toFixed(1)} ms`;
};

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function main(): Promise<void> {
  const dovecot = await startDovecot([ALICE]);
  const pbx = await MwiPbx.open('127.0.0.1');
  const server = await startTestServer(
    [
      'pbx:',
      `  - { name: raw, addresses: ["127.0.0.1"], mwi: { targets: ["sip:127.0.0.1:${pbx.port}"] } }`,
      'mwi: { resendOnStart: false }',
      'mailboxes:',
      `  - { number: "27000", pin: "1234", name: "Alice Example", email: ${ALICE} }`,
      'unifiedMessaging:',
      `  imap: { host: 127.0.0.1, port: ${dovecot.port}, tls: none, master: { user: ${MASTER_USER}, password: ${MASTER_PASSWORD} } }`,
    ].join('\n'),
  );
  const store = await openSqliteStore(server.dir);
  const client = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: ALICE, pass: dovecot.password }, logger: false } as ConstructorParameters<typeof ImapFlow>[0]);
  await client.connect();
  await client.mailboxOpen('INBOX');
  const uidOf = async (id: string): Promise<number | undefined> => {
    const uids = await client.search({ header: { 'X-Vmpilot-Message-Id': id } }, { uid: true });
    return uids && uids.length > 0 ? uids[0] : undefined;
  };
  const seenToNotify: number[] = [];
  const depositToEmail: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const msg = await store.deposit(newMessage(store.tmpDir));
      let uid: number | undefined;
      await waitUntil('the email', async () => (uid = await uidOf(msg.id)) !== undefined);
      depositToEmail.push(performance.now() - t0);
      await waitUntil('the lamp on', () => pbx.notifies.at(-1)?.waiting === true);
      const before = pbx.notifies.length;
      const t1 = performance.now();
      await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
      await waitUntil('NOTIFY no', () => pbx.notifies.slice(before).some((n) => !n.waiting));
      seenToNotify.push(performance.now() - t1);
    }
    // Append cost: build + APPEND, one session already open (the pool's steady state).
    const mailbox = (await store.findMailbox('27000'))!;
    const appendMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < Math.min(ROUNDS, 50); i++) {
      const msg = await store.deposit(newMessage(store.tmpDir, { audioFile: recordingIn(store.tmpDir, AUDIO_MS), durationMs: AUDIO_MS, mailbox: '27000' }));
      const t = performance.now();
      const raw = await messageEmail(mailbox, msg, 'UTC');
      await client.append('INBOX', raw, [], new Date(msg.receivedAt));
      appendMs.push(performance.now() - t);
      bytes = raw.length;
    }
    console.log(`machine: shared 2-core box, loaded by other work; Dovecot ${dovecot.port} on loopback, maildir on local disk`);
    console.log(summary('\\Seen in IMAP -> MWI NOTIFY "no"', seenToNotify));
    console.log(summary('deposit (another store instance) -> email in the INBOX', depositToEmail));
    console.log(summary(`append per deposit (${AUDIO_MS / 1000} s of audio, ${(bytes / 1024).toFixed(0)} KiB email: build + APPEND)`, appendMs));
  } finally {
    await client.logout().catch(() => client.close());
    await store.close();
    await server.stop();
    pbx.close();
    await dovecot.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    pino().error({ err }, 'bench failed');
    process.exit(1);
  },
);
