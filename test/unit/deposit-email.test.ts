/*
 * The new-message email after a deposit (src/notify/deposit-email.ts).
 *
 * Covers: the mailbox's address is looked up and the mail queued; a mailbox without an address gets none; a
 * look-up that fails is logged and costs only that email: no unhandled rejection (which exits Node; vitest
 * fails the run on one). Does not cover: sending (email-notifier.test.ts).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { emailOnDeposit } from '../../src/notify/deposit-email.js';
import type { Mailbox, MessageRecord } from '../../src/store/types.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

const message = { id: 'm1', mailbox: '27000' } as MessageRecord;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

function setup(findMailbox: (n: string) => Promise<Mailbox | undefined>) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const sent: Mailbox[] = [];
  const onDeposit = emailOnDeposit({ findMailbox }, { notify: (mb) => void sent.push(mb) }, logger);
  return { onDeposit, sent, lines };
}

describe('emailOnDeposit', () => {
  it("queues the mail to the mailbox's address", async () => {
    const { onDeposit, sent } = setup(async () => mailboxFixture({ number: '27000', email: 'alice@example.com' }));
    onDeposit(message);
    await settle();
    expect(sent.map((m) => m.email)).toEqual(['alice@example.com']);
  });

  it('sends nothing for a mailbox without an address', async () => {
    const { onDeposit, sent } = setup(async () => mailboxFixture({ number: '27000' }));
    onDeposit(message);
    await settle();
    expect(sent).toEqual([]);
  });

  it('logs a failed look-up instead of leaving an unhandled rejection', async () => {
    const { onDeposit, sent, lines } = setup(() => Promise.reject(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })));
    onDeposit(message);
    await settle();
    expect(sent).toEqual([]);
    expect(lines.find((l) => l.msg === 'new-message email skipped: mailbox look-up failed')).toMatchObject({ mailbox: '27000', id: 'm1' });
  });
});
