/**
 * The directory sync's pure parts: an LDAP entry read as a mailbox owner (directory-user.ts: presets, number
 * clean-up, AD's disabled bit, the "no voicemail" flag, binary objectGUID) and the plan against the store
 * (sync-plan.ts: duplicates, numbers held by mailboxes the directory does not own, a user who comes back,
 * a broken entry that owns a mailbox). The whole sync against a real slapd: integration/directory-sync.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { attributeMap } from '../../src/directory/attribute-map.js';
import { isProblem, readEntry, type DirectoryUser, type LdapEntry } from '../../src/directory/directory-user.js';
import { planSync } from '../../src/directory/sync-plan.js';
import type { Ownership } from '../../src/directory/ownership.js';
import { mailboxFixture } from '../helpers/mailbox-fixture.js';

const AD = attributeMap({ preset: 'activeDirectory', attributes: {} });
const OPENLDAP = attributeMap({ preset: 'openldap', attributes: { noVoicemail: 'vmDisabled' } });
const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

function adEntry(over: Record<string, string | string[] | Buffer> = {}): LdapEntry {
  return { dn: 'CN=Alice,OU=Staff,DC=example,DC=com', objectGUID: guid, telephoneNumber: '+46 8-123 45 67', ipPhone: '4567', givenName: 'Alice', sn: 'Example', mail: 'alice@example.com', userAccountControl: '512', ...over };
}

describe('readEntry: a directory entry as a mailbox owner', () => {
  it('reads an Active Directory user: objectGUID as hex, the number without spaces and dashes, ipPhone as an alias', () => {
    expect(readEntry(adEntry(), AD)).toEqual({ id: guid.toString('hex'), dn: adEntry().dn, number: '+4681234567', name: 'Alice Example', email: 'alice@example.com', aliases: ['4567'] });
  });

  it('extensionDigits: the last N digits are the mailbox number, the whole number an alias', () => {
    expect(readEntry(adEntry({ ipPhone: [] as unknown as string }), AD, { extensionDigits: 5 })).toMatchObject({ number: '34567', aliases: ['+4681234567'] });
    expect(readEntry(adEntry({ telephoneNumber: '+46 12' }), AD, { extensionDigits: 5 })).toMatchObject({ reason: 'telephoneNumber "+46 12" has fewer than 5 digits (extensionDigits)' });
  });

  it('takes displayName before "first last", and compares attribute names case-insensitively', () => {
    const user = readEntry(adEntry({ DisplayName: 'Alice B. Example' }), AD) as DirectoryUser;
    expect(user.name).toBe('Alice B. Example');
  });

  it('a disabled AD account (userAccountControl bit 0x2) is inactive', () => {
    expect((readEntry(adEntry({ userAccountControl: '514' }), AD) as DirectoryUser).inactive).toBe('account disabled');
  });

  it('the "no voicemail" flag makes the user inactive', () => {
    const entry: LdapEntry = { dn: 'uid=b,dc=x', entryUUID: 'u-1', telephoneNumber: '2001', cn: 'Bob', vmDisabled: 'TRUE' };
    expect((readEntry(entry, OPENLDAP) as DirectoryUser).inactive).toBe('no voicemail');
  });

  it('reports an entry without id, without number, with a bad number or a bad email, with its DN', () => {
    const reasons = [
      readEntry(adEntry({ objectGUID: [] as unknown as string }), AD),
      readEntry({ ...adEntry(), telephoneNumber: [] }, AD),
      readEntry(adEntry({ telephoneNumber: 'ext. twelve' }), AD),
      readEntry(adEntry({ ipPhone: 'n/a' }), AD),
      readEntry(adEntry({ mail: 'not-an-address' }), AD),
    ].map((r) => (isProblem(r) ? r.reason : 'ok'));
    expect(reasons).toEqual([
      'no objectGUID (the entry\'s stable id)',
      'no telephoneNumber (the mailbox number)',
      'telephoneNumber "ext. twelve" is not a number (digits, * and #, optionally after +)',
      'ipPhone "n/a" is not a number (digits, * and #, optionally after +)',
      'mail "not-an-address" is not an email address',
    ]);
  });
});

const user = (id: string, number: string, over: Partial<DirectoryUser> = {}): DirectoryUser => ({ id, dn: `uid=${id},dc=x`, number, name: `User ${id}`, aliases: [], ...over });
const box = (number: string, over: Parameters<typeof mailboxFixture>[0] = { number }) => mailboxFixture({ name: `User ${number}`, ...over, number });
const NO_PILOTS = new Map<string, string>();

describe('planSync: what a sync does', () => {
  it('of two entries with the same number, the one that owns it keeps it; the other is skipped', () => {
    const owned: Ownership = new Map([['b', { number: '2001', dn: 'uid=b,dc=x' }]]);
    const plan = planSync([user('a', '2001'), user('b', '2001')], [], owned, [box('2001', { number: '2001', name: 'User b' })], NO_PILOTS);
    expect(plan.create).toEqual([]);
    expect(plan.skipped).toEqual([{ dn: 'uid=a,dc=x', id: 'a', reason: 'number 2001 is already the number of uid=b,dc=x (this sync)' }]);
    expect(plan.unchanged).toBe(1);
  });

  it('never takes a pilot number, nor an alias of a mailbox the directory does not own', () => {
    const plan = planSync([user('a', '8000'), user('b', '2002', { aliases: ['+4655'] })], [], new Map(), [box('2999', { number: '2999', aliases: ['+4655'] })], new Map([['8000', 'voicemail']]));
    expect(plan.skipped.map((s) => s.reason)).toEqual(['number 8000 is already the voicemail pilot number', 'alias +4655 is already an alias of mailbox 2999']);
  });

  it('a user who comes back is unlocked and listed again', () => {
    const owned: Ownership = new Map([['a', { number: '2001', dn: 'uid=a,dc=x', disabled: true }]]);
    const plan = planSync([user('a', '2001', { name: 'User 2001' })], [], owned, [box('2001', { number: '2001', locked: true, hiddenFromDirectory: true })], NO_PILOTS);
    expect(plan.update.map((u) => u.fields)).toEqual([{ locked: false, hiddenFromDirectory: false }]);
    expect(plan.owned.get('a')?.disabled).toBeUndefined();
  });

  it('a broken entry keeps its mailbox as it is (not disabled); a disabled account disables it', () => {
    const owned: Ownership = new Map([
      ['a', { number: '2001', dn: 'uid=a,dc=x' }],
      ['b', { number: '2002', dn: 'uid=b,dc=x' }],
    ]);
    const plan = planSync([user('b', '2002', { inactive: 'account disabled' })], [{ dn: 'uid=a,dc=x', id: 'a', reason: 'no telephoneNumber' }], owned, [box('2001'), box('2002')], NO_PILOTS);
    expect(plan.disable).toEqual([{ id: 'b', number: '2002', dn: 'uid=b,dc=x', reason: 'account disabled' }]);
    expect(plan.owned.get('a')).toEqual({ number: '2001', dn: 'uid=a,dc=x' });
  });

  it('an owned entry whose mailbox was deleted by hand is created again', () => {
    const owned: Ownership = new Map([['a', { number: '2001', dn: 'uid=a,dc=x' }]]);
    const plan = planSync([user('a', '2001')], [], owned, [], NO_PILOTS);
    expect(plan.create.map((u) => u.number)).toEqual(['2001']);
  });
});
