/**
 * The temporary (extended absence) greeting, mailbox options key 4. Callers hear it instead of the busy and
 * unavailable greetings while it is on (greeting.ts); it can end by itself at a time the owner sets.
 *
 *   "Your temporary greeting is on until Friday March seventh at five PM." + the greeting   (or "... is off")
 *   1 record (then "how many days", '#' alone: until deleted) | 2 set when it ends | 3 delete | * back
 *
 * The end is counted in whole days from now (N x 24 h), said back as a date and time in voicemail.timeZone.
 */
import type { CallPlayItem } from '../../call/call.js';
import { PlayFileError } from '../../call/play-items.js';
import { MAX_TRIES, chooseAction, enterDigits } from './menu.js';
import { recordGreeting } from './record-greeting.js';
import { nowMs, refresh, type Session } from './session.js';

const DAY_MS = 86_400_000;
/** Longest temporary greeting period a caller can key in, days. */
const MAX_DAYS = 365;

/** Whether the mailbox's temporary greeting is on at `now`. */
export function temporaryGreetingActive(mailbox: { greetings: { temporary?: string }; temporaryGreetingUntil?: number }, now: number): boolean {
  return mailbox.greetings.temporary !== undefined && (mailbox.temporaryGreetingUntil === undefined || mailbox.temporaryGreetingUntil > now);
}

export async function runTemporaryGreeting(s: Session): Promise<void> {
  const { call } = s;
  for (;;) {
    const mailbox = await refresh(s);
    const now = nowMs(s.ctx);
    const recorded = mailbox.greetings.temporary !== undefined;
    const status = statusItems(s, now);
    let action;
    try {
      action = await chooseAction(s, 'temporaryGreeting', { intro: status, hide: recorded ? [] : ['setExpiry', 'delete'] });
    } catch (err) {
      if (!(err instanceof PlayFileError)) throw err;
      s.log.warn({ err }, 'temporary greeting unreadable');
      action = await chooseAction(s, 'temporaryGreeting', { hide: recorded ? [] : ['setExpiry', 'delete'] });
    }
    switch (action) {
      case 'record':
        await recordGreeting(s, 'temporary', () => askEnd(s));
        break;
      case 'setExpiry': {
        const until = await askEnd(s);
        await s.ctx.store.updateMailbox(mailbox.number, { temporaryGreetingUntil: until });
        break;
      }
      case 'delete':
        await s.ctx.store.setGreeting(mailbox.number, 'temporary', undefined);
        await call.play(['greeting_deleted'], { bargeIn: true });
        break;
      case 'back':
        return;
    }
  }
}

/** "Your temporary greeting is on [until <date> at <time>]." and the greeting itself, or "... is off". */
function statusItems(s: Session, now: number): CallPlayItem[] {
  const m = s.mailbox;
  if (!temporaryGreetingActive(m, now)) return ['temporary_greeting_off'];
  const items: CallPlayItem[] = ['temporary_greeting_on'];
  if (m.temporaryGreetingUntil !== undefined) {
    const until = new Date(m.temporaryGreetingUntil);
    const tz = s.ctx.config.timeZone;
    items.push('until', ...s.say.date(until, tz, { relativeTo: new Date(now) }), 'at', ...s.say.time(until, tz));
  }
  items.push({ silenceMs: 400 }, { file: m.greetings.temporary! });
  return items;
}

/** "For how many days ...": ms since epoch when it ends, or undefined for "until I delete it". */
async function askEnd(s: Session): Promise<number | undefined> {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const days = await enterDigits(s.call, ['enter_days'], { max: 3 });
    if (days === undefined || days === '') return undefined;
    const n = Number(days);
    if (n >= 1 && n <= MAX_DAYS) return nowMs(s.ctx) + n * DAY_MS;
    await s.call.play(['invalid'], { bargeIn: true });
  }
  return undefined;
}
