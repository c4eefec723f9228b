/**
 * The subscriptions file (subscription-file.ts): what survives a restart and how it is written.
 *
 * Covers: save then load returns the records; a missing file is no subscriptions; writes leave no temporary
 * file behind and replace the file whole; saves requested during a write coalesce into one more write of the
 * latest snapshot; a file that is not JSON is set aside; malformed records are skipped.
 * Does not cover: resuming subscriptions from the records (integration/mwi.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SubscriptionFile } from '../../src/mwi/subscription-file.js';
import type { SubscriptionRecord } from '../../src/mwi/subscription.js';

const logger = pino({ level: 'silent' });

function record(mailbox: string, localSeq = 10): SubscriptionRecord {
  return {
    mailbox,
    account: `sip:${mailbox}@vm.example.com`,
    event: { type: 'message-summary', id: '3' },
    expiresAt: 1_900_000_000_000,
    dialog: {
      callId: `c-${mailbox}`,
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

describe('SubscriptionFile', () => {
  it('MUST give back after a restart the records it saved', async () => {
    const path = join(folder(), 'subscriptions.json');
    const records = [record('27000'), record('27001')];
    const file = new SubscriptionFile(path, () => records, logger);
    file.save();
    await file.flush();
    expect(await new SubscriptionFile(path, () => [], logger).load()).toEqual(records);
  });

  it('reads a missing file as no subscriptions', async () => {
    expect(await new SubscriptionFile(join(folder(), 'none.json'), () => [], logger).load()).toEqual([]);
  });

  it('MUST write the file whole, through a temporary file that does not remain', async () => {
    const dir = folder();
    const path = join(dir, 'subscriptions.json');
    writeFileSync(path, JSON.stringify({ version: 1, subscriptions: [record('old')] }));
    const file = new SubscriptionFile(path, () => [record('27000')], logger);
    file.save();
    await file.flush();
    expect(readdirSync(dir)).toEqual(['subscriptions.json']);
    expect(JSON.parse(readFileSync(path, 'utf8')).subscriptions.map((r: SubscriptionRecord) => r.mailbox)).toEqual(['27000']);
  });

  it('coalesces saves asked for during a write into one more write of the latest state', async () => {
    const path = join(folder(), 'subscriptions.json');
    let seq = 0;
    let snapshots = 0;
    const file = new SubscriptionFile(path, () => (snapshots++, [record('27000', seq)]), logger);
    file.save(); // starts writing seq 0
    for (let i = 1; i <= 5; i++) {
      seq = i;
      file.save();
    }
    await file.flush();
    expect(snapshots).toBe(2);
    expect((await file.load())[0]?.dialog.localSeq).toBe(5);
  });

  it('sets aside a file that is not JSON and starts with no subscriptions', async () => {
    const dir = folder();
    const path = join(dir, 'subscriptions.json');
    writeFileSync(path, '{"version":1,"subscri');
    expect(await new SubscriptionFile(path, () => [], logger).load()).toEqual([]);
    expect(readdirSync(dir).some((n) => n.startsWith('subscriptions.json.damaged-'))).toBe(true);
  });

  it('skips malformed records and keeps the rest', async () => {
    const path = join(folder(), 'subscriptions.json');
    const bad = { ...record('x'), dialog: { ...record('x').dialog, localSeq: 'ten' } };
    writeFileSync(path, JSON.stringify({ version: 1, subscriptions: [record('27000'), bad, 42] }));
    const loaded = await new SubscriptionFile(path, () => [], logger).load();
    expect(loaded.map((r) => r.mailbox)).toEqual(['27000']);
  });
});
