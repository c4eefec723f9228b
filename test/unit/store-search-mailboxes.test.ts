/**
 * store.searchMailboxes on each engine (test/helpers/store-engines.ts): the admin API's list, paged and searched
 * in SQL. Number order; a
 * case-insensitive substring of number, alias, name or email; LIKE's own wildcards in a search taken
 * literally; the total of matches also for a page past the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/types.js';
import { storeEngines } from '../helpers/store-engines.js';

describe.each(storeEngines())('the $name store', (engine) => {
  let store: MessageStore;

  beforeAll(async () => {
    store = await engine.open(await engine.place());
    await store.provision([
      { number: '27002', name: 'Bob 100% Smith', pin: '4826', email: 'bob@example.com' },
      { number: '27001', name: 'alice_example', pin: '4826', aliases: ['+46855501'] },
      { number: '27003', name: 'Carol Jones', pin: '4826', email: 'CAROL@EXAMPLE.COM' },
    ]);
  });
  afterAll(async () => {
    await store?.close();
  });

  const numbers = async (search: string | undefined, offset = 0, limit = 10): Promise<[number, string[]]> => {
    const r = await store.searchMailboxes({ ...(search !== undefined && { search }), offset, limit });
    return [r.total, r.mailboxes.map((m) => m.number)];
  };

  describe('searchMailboxes', () => {
    it('pages every mailbox in number order with the total', async () => {
      expect(await numbers(undefined)).toEqual([3, ['27001', '27002', '27003']]);
      expect(await numbers('', 1, 1)).toEqual([3, ['27002']]);
      expect(await numbers(undefined, 5, 10)).toEqual([3, []]);
    });

    it('matches number, alias, name and email, case-insensitively', async () => {
      expect(await numbers('2700')).toEqual([3, ['27001', '27002', '27003']]);
      expect(await numbers('855501')).toEqual([1, ['27001']]);
      expect(await numbers('JONES')).toEqual([1, ['27003']]);
      expect(await numbers('carol@example')).toEqual([1, ['27003']]);
    });

    it('takes % and _ literally, and gives the total of matches for a page past them', async () => {
      expect(await numbers('100%')).toEqual([1, ['27002']]);
      expect(await numbers('e_e')).toEqual([1, ['27001']]);
      expect(await numbers('%')).toEqual([1, ['27002']]);
      expect(await numbers('example', 9, 10)).toEqual([3, []]);
    });

    it('returns mailboxes whole: aliases and greetings of the page', async () => {
      const { mailboxes } = await store.searchMailboxes({ search: 'alice', offset: 0, limit: 10 });
      expect(mailboxes[0]).toMatchObject({ number: '27001', aliases: ['+46855501'], greetings: {} });
    });
  });
});
