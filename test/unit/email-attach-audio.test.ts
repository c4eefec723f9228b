/**
 * The per-mailbox email attachment option end to end: set in YAML (mailboxes[].attachAudio), provisioned into
 * a real SQLite store, honoured by the new-message email (queued by the deposit, store/deposit-mail.ts; sent over a real SMTP
 * conversation with test/helpers/smtp-sink.ts), then switched off in the store (as `vmpilot mailbox set
 * --attach-audio off`, the API's PATCH and a CSV import do) and honoured again.
 *
 * Covers: attachAudio: true → the deposited message's WAV attached byte for byte; switched off → the mail
 * without an audio part; an entry without attachAudio leaves the store's setting alone at the next provision.
 * Does not cover: the mail's wording and retries (email-content.test.ts, email-notifier.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specsFromConfig } from '../../src/admin/config-mailboxes.js';
import { parseConfig } from '../../src/config/load.js';
import { createEmailNotifier, type EmailNotifier } from '../../src/notify/email.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { readMime, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { newMessage } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

const logger = pino({ level: 'silent' });
let dir: string;
let store: SqliteStore;
let sink: SmtpSink;
let notifier: EmailNotifier;

const yaml = (attach: string): string =>
  ['mailboxes:', `  - { number: "27000", pin: "4826", name: "Alice Example", email: alice@example.com${attach} }`].join('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-attach-'));
  store = await openSqliteStore(dir, { depositMail: { maxQueued: 100 } });
  sink = await startSmtpSink();
  notifier = createEmailNotifier({ host: '127.0.0.1', port: sink.port, secure: false, from: 'voicemail@example.com' }, store, logger, { timeZone: 'UTC', timeoutMs: 5000 });
});

afterAll(async () => {
  await notifier?.close();
  await sink?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Deposits a message, lets the email go out, and returns the mail's audio part (undefined: none). */
async function depositAndMail(): Promise<{ audio?: Buffer; wav: Buffer }> {
  const before = sink.mails.length;
  const message = await store.deposit(newMessage(store.tmpDir));
  const wav = readFileSync(message.audioPath);
  await waitFor(() => sink.mails.length === before + 1, 'the new-message mail');
  const { parts } = readMime(sink.mails.at(-1)!.raw);
  return { audio: parts.find((p) => (p.headers.get('content-type') ?? '').startsWith('audio/wav'))?.body, wav };
}

describe('mailboxes[].attachAudio', () => {
  it('on in the YAML: the mail carries the message as a WAV, byte for byte', async () => {
    await store.provision(specsFromConfig(parseConfig(yaml(', attachAudio: true'), dir)));
    expect((await store.findMailbox('27000'))!.emailAttachAudio).toBe(true);
    const { audio, wav } = await depositAndMail();
    expect(audio, 'an audio/wav part').toBeDefined();
    expect(audio!.equals(wav)).toBe(true);
  });

  it('switched off in the store: the mail has no audio; a YAML entry without the key leaves it off', async () => {
    await store.updateMailbox('27000', { emailAttachAudio: false });
    const report = await store.provision(specsFromConfig(parseConfig(yaml(''), dir)));
    expect(report.updated).toEqual([]);
    expect((await store.findMailbox('27000'))!.emailAttachAudio).toBe(false);
    const { audio } = await depositAndMail();
    expect(audio).toBeUndefined();
  });

  it('the YAML key is checked like every other: a non-boolean is a config error', () => {
    expect(() => parseConfig(yaml(', attachAudio: sometimes'), dir)).toThrow(/mailboxes\[0\]\.attachAudio/);
  });
});
