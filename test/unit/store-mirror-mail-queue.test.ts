/*
 * The email queue through the mirror and a restore (src/store/replica/: reconcile.ts copies the pending mails,
 * mail-queue-table.ts says what of them), with the primary on each engine (test/helpers/store-engines.ts), the
 * standby a SQLite store, and the restored primary's sender talking to the SMTP sink (test/helpers/smtp-sink.ts).
 *
 * Covers: three deposits queue three mails on the primary; one is sent (finished), one is being sent (leased)
 * when the mirror's pass runs; the standby then holds the two pending ones. The primary is lost and rebuilt empty,
 * restored from the standby, and its sender mails exactly those two (the one being sent included: at least once),
 * never the one already sent. A mirror pass over one mailbox copies only its mails.
 * Does not cover: the mirror's scheduling (store-mirror.test.ts), sending rules (email-notifier.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmailNotifier } from '../../src/notify/email.js';
import { openLocation, type OpenedStore, type StoreLocation } from '../../src/store/replica/location.js';
import { reconcile } from '../../src/store/replica/reconcile.js';
import type { MessageStore } from '../../src/store/types.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { newMessage } from '../helpers/store-fixture.js';
import { storeEngines, type StorePlace } from '../helpers/store-engines.js';
import { waitFor } from '../helpers/test-server.js';

const logger = pino({ level: 'silent' });
const LEASE = 60_000;
const locationOf = (p: StorePlace): StoreLocation => (p.url === undefined ? { kind: 'sqlite', dir: p.dir } : { kind: 'postgres', url: p.url });

describe.each(storeEngines())('the email queue mirrored from a $name primary, and restored', (engine) => {
  let primary: MessageStore;
  let place: StorePlace;
  let standbyDir: string;
  const opened: OpenedStore[] = [];

  beforeEach(async () => {
    place = await engine.place();
    primary = await engine.open(place, { depositMail: { maxQueued: 100 } });
    await primary.createMailbox({ number: '27000', name: 'Alice', pin: '4826', email: 'alice@example.com' });
    await primary.createMailbox({ number: '27001', name: 'Bob', pin: '4826', email: 'bob@example.com' });
    standbyDir = mkdtempSync(join(tmpdir(), 'vmpilot-standby-'));
  });

  afterEach(async () => {
    for (const o of opened.splice(0)) await o.close();
    await primary.close();
    rmSync(standbyDir, { recursive: true, force: true });
  });

  async function open(location: StoreLocation): Promise<OpenedStore> {
    const o = await openLocation(location, { logger });
    opened.push(o);
    return o;
  }

  it('a restored primary mails what was pending, once, and not what was sent', async () => {
    const ids: string[] = [];
    for (const from of ['1001', '1002', '1003']) ids.push((await primary.deposit(newMessage(primary.tmpDir, { from }))).id);
    const sent = await primary.claimMail('primary', Date.now(), LEASE);
    await primary.finishMail(sent!.id);
    const beingSent = await primary.claimMail('primary', Date.now(), LEASE);
    expect([sent!.messageId, beingSent!.messageId]).toEqual(ids.slice(0, 2));

    const source = await open(locationOf(place));
    const standby = await open({ kind: 'sqlite', dir: standbyDir });
    expect((await reconcile(source.replica, standby.replica)).mailQueueReplaced).toBe(true);
    expect((await standby.replica.mailQueue()).map((m) => m.messageId)).toEqual(ids.slice(1));
    // Nothing changed: the next pass copies nothing.
    expect((await reconcile(source.replica, standby.replica)).mailQueueReplaced).toBe(false);

    // The disaster: the primary is lost, rebuilt empty, and restored from the standby.
    await source.close();
    opened.splice(opened.indexOf(source), 1);
    await primary.close();
    place = await engine.place();
    const rebuilt = await open(locationOf(place));
    await reconcile(standby.replica, rebuilt.replica);
    primary = await engine.open(place);

    const sink = await startSmtpSink();
    const notifier = createEmailNotifier({ host: '127.0.0.1', port: sink.port, secure: false, from: 'vm@example.com' }, primary, logger, { timeZone: 'UTC', pollMs: 100, timeoutMs: 5000 });
    try {
      await waitFor(() => sink.mails.length >= 2, 'the two pending mails', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sink.mails).toHaveLength(2);
      expect(sink.mails.map((m) => m.raw.includes('1001'))).toEqual([false, false]);
      expect(sink.mails.every((m) => m.to.includes('alice@example.com'))).toBe(true);
    } finally {
      await notifier.close();
      await sink.close();
    }
  }, 40_000);

  it("a pass over one mailbox copies that mailbox's mails only", async () => {
    await primary.deposit(newMessage(primary.tmpDir));
    await primary.deposit(newMessage(primary.tmpDir, { mailbox: '27001' }));
    const source = await open(locationOf(place));
    const standby = await open({ kind: 'sqlite', dir: standbyDir });
    await reconcile(source.replica, standby.replica, { mailboxes: ['27001'] });
    expect((await standby.replica.mailQueue()).map((m) => m.mailbox)).toEqual(['27001']);
  }, 40_000);
});
