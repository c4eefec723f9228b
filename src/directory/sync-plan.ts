/**
 * What a directory sync would do, from the directory's users, the mailboxes the directory owns
 * (ownership.ts) and the store's mailboxes. Pure; sync.ts applies it.
 *
 *   - an active user with no mailbox of its own: create (its number and aliases must be free);
 *   - an active user whose mailbox exists: renumber when the number changed, update the fields that changed
 *     (name, email, aliases), unlock a mailbox the sync had disabled;
 *   - an owned entry gone from the directory, or now disabled / without voicemail: disable its mailbox (locked,
 *     hidden from the dial-by-name directory), never delete it or its messages;
 *   - a broken entry (no id, no number, a bad value, a number or alias taken): skipped with its DN and the
 *     reason; the mailbox it owns, if any, is left as it is (a typo in the directory disables nobody).
 *
 * Numbers held by mailboxes the directory does not own are never taken, so YAML and API mailboxes are safe.
 * Conservative by design: a number still held by another mailbox (even one being disabled or renumbered in
 * the same sync) is reported as taken; the next sync takes it once it is free.
 */
import { changedFields } from '../store/mailbox-diff.js';
import type { FieldChange, Mailbox, MailboxImport } from '../store/types.js';
import type { DirectoryUser, EntryProblem } from './directory-user.js';
import type { Ownership } from './ownership.js';

export interface PlannedUser {
  user: DirectoryUser;
  /** The mailbox's number before the sync (a renumber: differs from user.number). */
  number: string;
  changes: FieldChange[];
  fields: MailboxImport['fields'];
}

export interface SyncPlan {
  create: DirectoryUser[];
  /** Existing mailboxes with changed fields (after any renumber: `user.number`). */
  update: PlannedUser[];
  renumber: { user: DirectoryUser; from: string }[];
  disable: { id: string; number: string; dn: string; reason: string }[];
  skipped: EntryProblem[];
  /** Active users whose mailbox needs nothing. */
  unchanged: number;
  /** Users without voicemail (disabled account, flag) that have no mailbox: nothing to do. */
  inactive: number;
  /** The ownership once the plan is applied. */
  owned: Ownership;
}

/** Numbers (mailbox numbers and aliases) and who holds them: the store's, then those this plan hands out. */
class Claims {
  private readonly holder = new Map<string, string>();

  constructor(mailboxes: readonly Mailbox[], pilots: ReadonlyMap<string, string>) {
    for (const [n, service] of pilots) this.holder.set(n, `the ${service} pilot number`);
    for (const m of mailboxes) {
      this.holder.set(m.number, `mailbox ${m.number}`);
      for (const a of m.aliases) this.holder.set(a, `an alias of mailbox ${m.number}`);
    }
  }

  /** Who else holds `n` (`mine`: the mailbox the user already has, whose own numbers do not conflict). */
  takenBy(n: string, mine: Mailbox | undefined): string | undefined {
    const h = this.holder.get(n);
    if (h === undefined) return undefined;
    if (mine && (mine.number === n || mine.aliases.includes(n))) return undefined;
    return h;
  }

  claim(n: string, dn: string): void {
    this.holder.set(n, `the number of ${dn} (this sync)`);
  }
}

export function planSync(
  users: readonly DirectoryUser[],
  problems: readonly EntryProblem[],
  owned: Ownership,
  mailboxes: readonly Mailbox[],
  pilots: ReadonlyMap<string, string>,
): SyncPlan {
  const plan: SyncPlan = { create: [], update: [], renumber: [], disable: [], skipped: [...problems], unchanged: 0, inactive: 0, owned: new Map(owned) };
  const byNumber = new Map(mailboxes.map((m) => [m.number, m]));
  const claims = new Claims(mailboxes, pilots);
  const seen = new Set<string>();
  const active: DirectoryUser[] = [];
  for (const user of users) {
    if (seen.has(user.id)) {
      plan.skipped.push({ dn: user.dn, id: user.id, reason: `its id ${user.id} is also another entry's` });
      continue;
    }
    seen.add(user.id);
    if (user.inactive === undefined) active.push(user);
  }
  // Users who keep their number go first, so that a newcomer claiming it is the one reported.
  const mailboxOf = (user: DirectoryUser): Mailbox | undefined => {
    const own = owned.get(user.id);
    return own && byNumber.get(own.number);
  };
  active.sort((a, b) => Number(mailboxOf(b)?.number === b.number) - Number(mailboxOf(a)?.number === a.number));
  const keep = new Set(problems.map((p) => p.id).filter((id) => id !== undefined));
  for (const user of active) {
    const mine = mailboxOf(user);
    const wanted = [user.number, ...user.aliases];
    const conflict = wanted.map((n) => [n, claims.takenBy(n, mine)] as const).find(([, by]) => by !== undefined);
    if (conflict) {
      const [n, by] = conflict;
      plan.skipped.push({ dn: user.dn, id: user.id, reason: `${n === user.number ? 'number' : 'alias'} ${n} is already ${by}` });
      keep.add(user.id);
      continue;
    }
    wanted.forEach((n) => claims.claim(n, user.dn));
    plan.owned.set(user.id, { number: user.number, dn: user.dn });
    if (!mine) {
      plan.create.push(user);
      continue;
    }
    if (mine.number !== user.number) plan.renumber.push({ user, from: mine.number });
    // After a renumber onto one of its aliases the store drops that alias; compare with what it will hold.
    const after: Mailbox = mine.number === user.number ? mine : { ...mine, number: user.number, aliases: mine.aliases.filter((a) => a !== user.number) };
    const changes = changedFields(after, { name: user.name, email: user.email, aliases: user.aliases });
    const fields: PlannedUser['fields'] = Object.fromEntries(changes.map((c) => [c.field, c.to]));
    if (owned.get(user.id)?.disabled) {
      changes.push({ field: 'locked', from: true, to: false });
      Object.assign(fields, { locked: false, hiddenFromDirectory: false });
    }
    if (changes.length > 0) plan.update.push({ user, number: mine.number, changes, fields });
    else if (mine.number === user.number) plan.unchanged++;
  }
  const activeIds = new Set(active.map((u) => u.id));
  const inactiveReason = new Map(users.filter((u) => u.inactive !== undefined).map((u) => [u.id, u.inactive!]));
  for (const [id, own] of owned) {
    if (activeIds.has(id) || keep.has(id)) continue;
    if (!byNumber.has(own.number)) {
      plan.owned.delete(id);
      continue;
    }
    if (own.disabled) continue;
    plan.disable.push({ id, number: own.number, dn: own.dn, reason: inactiveReason.get(id) ?? 'gone from the directory' });
    plan.owned.set(id, { ...own, disabled: true });
  }
  plan.inactive = [...inactiveReason.keys()].filter((id) => !owned.has(id)).length;
  return plan;
}
