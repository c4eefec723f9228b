/**
 * The sentences of the listening session that are built from data: the message summary after log-in and a
 * message's envelope. Pure functions from store records to prompt ids (the say-engine decides how numbers,
 * dates and times are said in the language).
 */
import type { CallPlayItem } from '../../call/call.js';
import type { Say } from '../../prompts/say.js';
import type { MessageCounts, MessageRecord } from '../../store/types.js';

/** "You have two new messages, one urgent, and one saved message." */
export function summaryItems(say: Say, counts: MessageCounts): CallPlayItem[] {
  const items: CallPlayItem[] = ['you_have', ...say.countPhrase(counts.new, 'new_message')];
  if (counts.urgentNew > 0) items.push({ silenceMs: 150 }, ...say.number(counts.urgentNew), 'urgent', { silenceMs: 150 });
  items.push('and', ...say.countPhrase(counts.saved, 'saved_message'));
  return items;
}

export interface EnvelopeFacts {
  /** 0-based place of the message in what the caller is listening to. */
  index: number;
  /** Deleted in this call (the caller can still restore it). */
  deleted: boolean;
  /** IANA time zone for the date and time. */
  timeZone: string;
  /** ms since epoch, for "today" and "yesterday". */
  now: number;
  /** The sender's recorded name, when the sender is a mailbox that has one: said instead of the number. */
  senderNameFile?: string;
}

/**
 * "Urgent message two. Received yesterday at three forty-five PM from two seven zero zero one." Deleted
 * messages are announced as such; a number that is not keypad digits (anonymous, a SIP name) is "an unknown
 * caller".
 */
export function envelopeItems(say: Say, message: MessageRecord, facts: EnvelopeFacts): CallPlayItem[] {
  const items: CallPlayItem[] = [];
  if (facts.deleted) items.push('deleted');
  else if (message.urgent) items.push('urgent');
  items.push('message', ...say.number(facts.index + 1), { silenceMs: 300 });
  const received = new Date(message.receivedAt);
  const day = say.date(received, facts.timeZone, { relativeTo: new Date(facts.now) });
  const relative = day.join() !== say.date(received, facts.timeZone).join();
  items.push('received', ...(relative ? [] : ['on']), ...day, 'at', ...say.time(received, facts.timeZone));
  const digits = callerDigits(message.from);
  if (facts.senderNameFile !== undefined) items.push('from', { file: facts.senderNameFile });
  else if (digits !== undefined) items.push('from', ...say.digits(digits));
  else items.push('from_unknown_caller');
  return items;
}

/** The caller's number as keypad digits ('+' dropped), or undefined when it has none. */
export function callerDigits(from: string): string | undefined {
  const digits = from.startsWith('+') ? from.slice(1) : from;
  return /^[0-9*#]+$/.test(digits) ? digits : undefined;
}
