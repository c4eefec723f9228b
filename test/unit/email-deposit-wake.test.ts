/*
 * The new-message mail sender woken by a deposit's commit (the store's 'mailQueued' event, src/notify/email.ts):
 * since the deposit's own transaction queues its mail (store/deposit-mail.ts), nothing called notify() any more,
 * and the sender only found the mail at its next poll. Each engine (test/helpers/store-engines.ts) and SQLite
 * in its store thread (the server's SQLite: the event crosses the thread), with a real SMTP conversation
 * (test/helpers/smtp-sink.ts).
 *
 * Covers: with the poll an hour long, a deposit's mail arrives all the same (the wake, not a latency, is what is
 * asserted: without it the mail would wait an hour); a deposit to a mailbox without an address wakes nobody
 * into sending anything. Not: another process's deposit (found at the next poll), retries (email-notifier.test.ts).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmailNotifier, type EmailNotifier, type MailQueueStore } from '../../src/notify/email.js';
import { openThreadedStore } from '../../src/store/thread/threaded-store.js';
import type { MessageStore } from '../../src/store/types.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { sqliteEngine, storeEngines, type StoreEngine, type StoreOpenOptions } from '../helpers/store-engines.js';
import { newMessage } from '../helpers/store-fixture.js';
import { waitFor } from '../helpers/test-server.js';

const logger = pino({ level: 'silent' });
const AN_HOUR = 3_600_000;

/** SQLite as the server runs it: in its store thread, events forwarded to this thread. */
const threadedSqlite: StoreEngine = {
  name: 'sqlite',
  place: () => sqliteEngine.place(),
  open: (place, opts: StoreOpenOptions = {}) => openThreadedStore(place.dir, { logger, depositMail: opts.depositMail }),
  onOtherHost: (place) => place,
};

const engines: [string, StoreEngine][] = [...storeEngines().map((e): [string, StoreEngine] => [e.name, e]), ['sqlite in its thread', threadedSqlite]];

describe.each(engines)('a deposit wakes the mail sender (%s)', (_name, engine) => {
  let store: MessageStore;
  let sink: SmtpSink;
  let notifier: EmailNotifier | undefined;
  let looks = 0;

  beforeEach(async () => {
    store = await engine.open(await engine.place(), { depositMail: { maxQueued: 100 } });
    await store.createMailbox({ number: '27000', name: 'Alice', pin: '4826', email: 'alice@example.com' });
    await store.createMailbox({ number: '27002', name: 'Carol', pin: '4826' });
    sink = await startSmtpSink();
    looks = 0;
  });

  afterEach(async () => {
    await notifier?.close();
    notifier = undefined;
    await sink.close();
    await store.close();
  });

  /** The sender with an hour-long poll, once its first look (at start) has found the queue empty. */
  async function startSender(): Promise<void> {
    // Counts the sender's looks: a deposit made after the first one can only be found by a wake (or in an hour).
    const watched: MailQueueStore = {
      events: store.events,
      enqueueMail: (...a) => store.enqueueMail(...a),
      claimMail: async (...a) => {
        const job = await store.claimMail(...a);
        if (!job) looks++;
        return job;
      },
      finishMail: (...a) => store.finishMail(...a),
      retryMail: (...a) => store.retryMail(...a),
      getMessage: (...a) => store.getMessage(...a),
      findMailbox: (...a) => store.findMailbox(...a),
    };
    notifier = createEmailNotifier({ host: '127.0.0.1', port: sink.port, secure: false, from: 'vm@example.com' }, watched, logger, {
      timeZone: 'UTC',
      pollMs: AN_HOUR,
      timeoutMs: 5000,
    });
    await waitFor(() => looks >= 1, "the sender's first look");
  }

  it("mails a deposit at once although the sender's next poll is an hour away", async () => {
    await startSender();
    await store.deposit(newMessage(store.tmpDir));
    await waitFor(() => sink.mails.length === 1, 'the mail of the deposit', 10_000);
    expect(sink.mails[0]!.to).toEqual(['alice@example.com']);
  });

  it('sends nothing for a deposit to a mailbox without an address', async () => {
    await startSender();
    await store.deposit(newMessage(store.tmpDir, { mailbox: '27002' }));
    await store.deposit(newMessage(store.tmpDir));
    await waitFor(() => sink.mails.length === 1, 'the mail of the second deposit', 10_000);
    expect(sink.mails.map((m) => m.to)).toEqual([['alice@example.com']]);
  });
});
