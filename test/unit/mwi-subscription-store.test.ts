/**
 * Where MWI subscriptions are kept across restarts: the message store, one row each (subscription-journal.ts
 * over the real SQLite store), and the subscriptions file of earlier versions, read once to import it
 * (subscription-file.ts).
 *
 * Covers: the journal writes each subscription as its own row, coalesces the changes of one turn into one
 * write, writes only the row of a subscription that changed (not the others), deletes the row of one that
 * ended, and rows read back give the records; the old file: read back, missing is none, not JSON is set
 * aside, malformed records skipped.
 * Does not cover: resuming and importing in MwiSubscriptions (integration/mwi.test.ts).
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { readSubscriptionFile } from '../../src/mwi/subscription-file.js';
import { SubscriptionJournal, readStored } from '../../src/mwi/subscription-journal.js';
import { Subscription, type SubscriptionDeps, type SubscriptionRecord } from '../../src/mwi/subscription.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { StoredSubscription } from '../../src/store/types.js';

const logger = pino({ level: 'silent' });

function record(mailbox: string, localSeq = 10, callId = `c-${mailbox}`): SubscriptionRecord {
  return {
    mailbox,
    account: `sip:${mailbox}@vm.example.com`,
    event: { type: 'message-summary', id: '3' },
    expiresAt: 1_900_000_000_000,
    dialog: {
      callId,
      localTag: 'l1',
      remoteTag: 'r1',
      localUri: `<sip:${mailbox}@vm.example.com>`,
      remoteUri: '<sip:phone@192.0.2.9>',
      remoteTarget: 'sip:phone@192.0.2.9:5062;transport=tcp',
      routeSet: ['<sip:proxy.example.com;lr>'],
      localSeq,
      remoteSeq: 1,
      localContact: '<sip:27000@192.0.2.1:5060>',
      secure: false,
    },
  };
}

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'vmpilot-subfile-'));
}

/** A subscription rebuilt from a record; nothing is sent (no NOTIFY is asked for). */
function subscription(r: SubscriptionRecord): Subscription {
  const deps = { logger, onChanged: () => undefined, onEnded: () => undefined } as unknown as SubscriptionDeps;
  return Subscription.fromRecord(r, '192.0.2.9', deps, 0);
}

describe('SubscriptionJournal over the SQLite store', () => {
  it('writes one row per subscription, coalesces a turn of changes into one write, and rewrites only what changed', async () => {
    const store = await openSqliteStore(join(folder(), 'data'));
    try {
      const writes: { put: StoredSubscription[]; remove: readonly string[] }[] = [];
      const journal = new SubscriptionJournal(
        {
          listSubscriptions: () => store.listSubscriptions(),
          saveSubscriptions: (put, remove) => {
            writes.push({ put: [...put], remove });
            return store.saveSubscriptions(put, remove);
          },
        },
        logger,
      );
      const subs = Array.from({ length: 300 }, (_, i) => subscription(record(String(27000 + (i % 50)), 10, `call-${i}`)));
      for (const sub of subs) journal.changed(sub);
      await journal.flush();
      expect(writes).toHaveLength(1);
      expect(writes[0]!.put).toHaveLength(300);
      const before = new Map((await store.listSubscriptions()).map((r) => [r.id, r.data]));
      expect(before.size).toBe(300);

      // One subscription changes (a refresh moves its expiry): one row written, the 299 others untouched.
      subs[42]!.expiresAt += 60_000;
      journal.changed(subs[42]!);
      await journal.flush();
      expect(writes).toHaveLength(2);
      expect(writes[1]!.put.map((r) => r.id)).toEqual([subs[42]!.id]);
      const after = await store.listSubscriptions();
      expect(after.filter((r) => r.data !== before.get(r.id)).map((r) => r.id)).toEqual([subs[42]!.id]);

      // One ends: its row goes.
      journal.removed(subs[7]!.id);
      await journal.flush();
      expect(writes[2]).toEqual({ put: [], remove: [subs[7]!.id] });
      const rows = await store.listSubscriptions();
      expect(rows).toHaveLength(299);
      const back = readStored(rows.find((r) => r.id === subs[42]!.id)!);
      expect(back).toEqual({ record: subs[42]!.toRecord(), source: '192.0.2.9' });
    } finally {
      await store.close();
    }
  });

  it('reads a row that is not a record as nothing', () => {
    expect(readStored({ id: 'x', mailbox: '27000', source: 'a', expiresAt: 0, data: '{"mailbox":1' })).toBeUndefined();
    expect(readStored({ id: 'x', mailbox: '27000', source: 'a', expiresAt: 0, data: '{"mailbox":"27000"}' })).toBeUndefined();
  });
});

describe('the subscriptions file of earlier versions', () => {
  it('gives back the records it holds', async () => {
    const path = join(folder(), 'subscriptions.json');
    const records = [record('27000'), record('27001')];
    writeFileSync(path, JSON.stringify({ version: 1, subscriptions: records }));
    expect(await readSubscriptionFile(path, logger)).toEqual(records);
  });

  it('reads a missing file as no subscriptions', async () => {
    expect(await readSubscriptionFile(join(folder(), 'none.json'), logger)).toEqual([]);
  });

  it('sets aside a file that is not JSON and imports nothing', async () => {
    const dir = folder();
    const path = join(dir, 'subscriptions.json');
    writeFileSync(path, '{"version":1,"subscri');
    expect(await readSubscriptionFile(path, logger)).toEqual([]);
    expect(readdirSync(dir).some((n) => n.startsWith('subscriptions.json.damaged-'))).toBe(true);
  });

  it('skips malformed records and keeps the rest', async () => {
    const path = join(folder(), 'subscriptions.json');
    const bad = { ...record('x'), dialog: { ...record('x').dialog, localSeq: 'ten' } };
    writeFileSync(path, JSON.stringify({ version: 1, subscriptions: [record('27000'), bad, 42] }));
    const loaded = await readSubscriptionFile(path, logger);
    expect(loaded.map((r) => r.mailbox)).toEqual(['27000']);
  });
});
