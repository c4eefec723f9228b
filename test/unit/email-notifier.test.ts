/**
 * Email notification through a real SMTP conversation (src/notify/email.ts with nodemailer, against the
 * node:net SMTP sink in test/helpers/smtp-sink.ts on a loopback port).
 *
 * Covers: one mail per notify() with From/To/Subject and the body; the WAV attached byte for byte when the
 * mailbox asks; AUTH PLAIN with the configured credentials; a 451 server retried with a growing backoff
 * until it accepts; a 550 recipient dropped without holding up the next mail; deposit order kept; notify()
 * returning at once while the server is down; mailboxes without an address skipped; a message whose audio is
 * gone still mailed, without it.
 * The queue is a real SQLite store (the store's queue methods on both engines: store-mail-queue.test.ts).
 * Does not cover: TLS to the SMTP server (nodemailer's own), the content's wording (email-content.test.ts), a
 * restart of the whole server (test/integration/email-restart.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmailNotifier, type EmailNotifier, type EmailNotifierOptions } from '../../src/notify/email.js';
import type { SmtpConfig } from '../../src/config/schema.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import type { Mailbox, MessageRecord } from '../../src/store/types.js';
import { readMime, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { waitFor } from '../helpers/test-server.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'vmpilot-email-'));
const WAV = join(dir, 'm1.wav');
// Any bytes do for the attachment check; a small header-like prefix and every byte value.
const WAV_BYTES = Buffer.concat([Buffer.from('RIFF....WAVEfmt '), Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256))]);
writeFileSync(WAV, WAV_BYTES);

function mailbox(over: Partial<Mailbox> = {}): Mailbox {
  return mailboxFixture({ email: 'alice@example.com', ...over });
}

function message(over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: 'm1',
    mailbox: '27000',
    folder: 'new',
    from: '27001',
    fromName: 'Bob Smith',
    receivedAt: Date.UTC(2023, 10, 21, 13, 5, 0),
    durationMs: 12_000,
    urgent: false,
    heard: false,
    reason: 'no-answer',
    audioPath: WAV,
    ...over,
  };
}

let sink: SmtpSink | undefined;
let notifier: EmailNotifier | undefined;
let store: SqliteStore;

beforeAll(async () => {
  store = await openSqliteStore(mkdtempSync(join(tmpdir(), 'vmpilot-email-store-')));
});

afterAll(async () => {
  await store?.close();
});

/** Mails still queued (claimed and put back at once, so nothing is sent). */
async function queued(): Promise<number> {
  let n = 0;
  const held: number[] = [];
  // Leased for longer than the look-ahead, so a counted mail is not claimed again by the next look.
  const later = Date.now() + 86_400_000;
  for (let job = await store.claimMail('count', later, 86_400_000); job; job = await store.claimMail('count', later, 86_400_000)) {
    n++;
    held.push(job.id);
  }
  for (const id of held) await store.retryMail(id, 0, 'counted');
  return n;
}

afterEach(async () => {
  await notifier?.close();
  await sink?.close();
  notifier = undefined;
  sink = undefined;
  // Each test starts with an empty queue.
  for (let job = await store.claimMail('cleanup', Date.now() + 86_400_000, 1); job; job = await store.claimMail('cleanup', Date.now() + 86_400_000, 1)) {
    await store.finishMail(job.id);
  }
});

function smtp(port: number, over: Partial<SmtpConfig> = {}): SmtpConfig {
  return { host: '127.0.0.1', port, secure: false, from: 'voicemail@example.com', ...over };
}

function start(config: SmtpConfig, opts: EmailNotifierOptions = {}): EmailNotifier {
  notifier = createEmailNotifier(config, store, logger, { timeZone: 'UTC', retryBaseMs: 100, timeoutMs: 2000, ...opts });
  return notifier;
}

describe('the email notifier over SMTP', () => {
  it('mails the owner: From, To, Subject naming the caller, and the body', async () => {
    sink = await startSmtpSink();
    start(smtp(sink.port)).notify(mailbox(), message());
    await waitFor(() => sink!.mails.length === 1, 'the mail');
    const mail = sink.mails[0]!;
    expect(mail.from).toBe('voicemail@example.com');
    expect(mail.to).toEqual(['alice@example.com']);
    const { headers, parts } = readMime(mail.raw);
    expect(headers.get('subject')).toBe('New voicemail from Bob Smith (27001)');
    expect(parts).toHaveLength(1);
    const text = parts[0]!.body.toString('utf8');
    expect(text).toContain('From:      Bob Smith (27001)');
    expect(text).toContain('Length:    0:12');
    expect(text).toContain('November 21, 2023');
  });

  it('attaches the WAV byte for byte when the mailbox asks for the audio', async () => {
    sink = await startSmtpSink();
    start(smtp(sink.port)).notify(mailbox({ emailAttachAudio: true }), message());
    await waitFor(() => sink!.mails.length === 1, 'the mail');
    const { parts } = readMime(sink.mails[0]!.raw);
    const wav = parts.find((p) => (p.headers.get('content-type') ?? '').startsWith('audio/wav'));
    expect(wav, 'an audio/wav part').toBeDefined();
    expect(wav!.headers.get('content-disposition')).toMatch(/attachment; filename=.*voicemail-27000-2023-11-21T13-05-00Z\.wav/);
    expect(wav!.body.equals(WAV_BYTES)).toBe(true);
  });

  it('authenticates with the configured user and password (AUTH PLAIN)', async () => {
    sink = await startSmtpSink({ auth: { user: 'vm', pass: 's3cret' } });
    start(smtp(sink.port, { auth: { user: 'vm', pass: 's3cret' } })).notify(mailbox(), message());
    await waitFor(() => sink!.mails.length === 1, 'the mail');
    expect(sink.mails[0]!.user).toBe('vm');
  });

  it('a server answering 451 delays the mail: retried with a doubling backoff until accepted', async () => {
    sink = await startSmtpSink({ failFirst: 2 });
    start(smtp(sink.port)).notify(mailbox(), message());
    await waitFor(() => sink!.mails.length === 1, 'the mail after the retries', 5000);
    expect(sink.failures).toBe(2);
    const [a, b, c] = sink.attempts;
    expect(sink.attempts).toHaveLength(3);
    // retryBaseMs 100: about 100 ms, then about 200 ms (plus connection set-up).
    expect(b! - a!).toBeGreaterThanOrEqual(90);
    expect(c! - b!).toBeGreaterThanOrEqual(190);
  });

  it('a permanent refusal (550) drops that mail and the next one still goes', async () => {
    sink = await startSmtpSink({ rejectRecipient: 'nobody@example.com' });
    const n = start(smtp(sink.port));
    n.notify(mailbox({ email: 'nobody@example.com' }), message({ id: 'lost' }));
    n.notify(mailbox(), message({ id: 'm2', fromName: 'Second Caller' }));
    await waitFor(() => sink!.mails.length === 1, 'the second mail');
    await n.close();
    expect(await queued(), 'the refused mail is off the queue').toBe(0);
    expect(sink.mails[0]!.to).toEqual(['alice@example.com']);
    expect(readMime(sink.mails[0]!.raw).headers.get('subject')).toContain('Second Caller');
  });

  it('keeps deposit order', async () => {
    sink = await startSmtpSink();
    const n = start(smtp(sink.port));
    for (const name of ['First', 'Second', 'Third']) n.notify(mailbox(), message({ fromName: name }));
    await waitFor(() => sink!.mails.length === 3, 'three mails');
    expect(sink.mails.map((m) => readMime(m.raw).headers.get('subject'))).toEqual([
      'New voicemail from First (27001)',
      'New voicemail from Second (27001)',
      'New voicemail from Third (27001)',
    ]);
  });

  it('notify() returns at once while the SMTP server is down, and the mail waits in the queue', async () => {
    // A port with nothing listening: take one, then close it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const n = start(smtp(port), { retryBaseMs: 60_000 });
    const t0 = performance.now();
    n.notify(mailbox(), message());
    // This store is SQLite in-thread, so its queue write (with its fsync) is inside the call; the server's store
    // runs in its own thread. What matters: no SMTP wait (a refused connection is retried after 60 s).
    expect(performance.now() - t0).toBeLessThan(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await queued()).toBe(1);
  });

  it('skips a mailbox without an email address', async () => {
    sink = await startSmtpSink();
    const n = start(smtp(sink.port));
    n.notify(mailbox({ email: undefined }), message());
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await queued()).toBe(0);
    expect(sink.attempts).toHaveLength(0);
  });

  it('a message whose audio is already gone is still mailed, without the attachment', async () => {
    sink = await startSmtpSink();
    start(smtp(sink.port)).notify(mailbox({ emailAttachAudio: true }), message({ audioPath: join(dir, 'purged.wav') }));
    await waitFor(() => sink!.mails.length === 1, 'the mail');
    expect(readMime(sink.mails[0]!.raw).parts.some((p) => (p.headers.get('content-type') ?? '').startsWith('audio/'))).toBe(false);
  });
});
