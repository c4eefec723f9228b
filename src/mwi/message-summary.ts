/**
 * The message-summary body (RFC 3842 §5): what a NOTIFY tells a phone or PBX about a mailbox.
 *
 *   Messages-Waiting: yes
 *   Message-Account: sip:27000@vm.example.com
 *   Voice-Message: 2/8 (1/0)
 *
 * Pure text in, text out: no SIP headers, no sending (notifier.ts and subscriptions.ts do that).
 */
import type { MessageCounts } from '../store/types.js';

/** RFC 3842 §5.1: the MIME type of the body. */
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';
/** RFC 3842 §4.1: the event package name. */
export const MESSAGE_SUMMARY_EVENT = 'message-summary';

export interface MessageSummary {
  waiting: boolean;
  /** The account the summary is about, e.g. `sip:27000@vm.example.com`; absent when the body has none. */
  account?: string;
  /** The Voice-Message line; absent when the body has none. */
  voice?: MessageCounts;
}

/**
 * The body for a mailbox's counts. RFC 3842 §5.2: Messages-Waiting is "yes" when there are new messages
 * (our 'new' folder: unheard), "no" otherwise; the Voice-Message line is `new/old (urgent-new/urgent-old)`,
 * where the urgent figures are included in the totals, and saved messages are the "old" ones.
 */
export function buildMessageSummary(counts: MessageCounts, account: string): Buffer {
  const c = clean(counts);
  const lines = [
    `Messages-Waiting: ${c.new > 0 ? 'yes' : 'no'}`,
    `Message-Account: ${account}`,
    `Voice-Message: ${c.new}/${c.saved} (${c.urgentNew}/${c.urgentSaved})`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

/**
 * Reads a body back (tests, and a PBX that sends us one). Header names compare case-insensitively (RFC 3842
 * §5.2 uses ABNF literals, which are case-insensitive); lines we do not know (other message classes, optional
 * message headers) are skipped. Returns undefined when there is no Messages-Waiting line, the one field the
 * grammar requires.
 */
export function parseMessageSummary(body: Buffer | string): MessageSummary | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let waiting: boolean | undefined;
  const out: Omit<MessageSummary, 'waiting'> = {};
  for (const raw of text.split(/\r?\n/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const name = raw.slice(0, colon).trim().toLowerCase();
    const value = raw.slice(colon + 1).trim();
    if (name === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') return undefined;
      waiting = v === 'yes';
    } else if (name === 'message-account') {
      out.account = value;
    } else if (name === 'voice-message') {
      const m = /^(\d+)\s*\/\s*(\d+)(?:\s*\(\s*(\d+)\s*\/\s*(\d+)\s*\))?$/.exec(value);
      if (m) {
        out.voice = { new: Number(m[1]), saved: Number(m[2]), urgentNew: Number(m[3] ?? 0), urgentSaved: Number(m[4] ?? 0) };
      }
    }
  }
  return waiting === undefined ? undefined : { waiting, ...out };
}

/** Counts as non-negative integers (a store bug must not put "NaN" or "-1" on the wire). */
function clean(c: MessageCounts): MessageCounts {
  const n = (x: number): number => (Number.isFinite(x) && x > 0 ? Math.floor(x) : 0);
  return { new: n(c.new), saved: n(c.saved), urgentNew: n(c.urgentNew), urgentSaved: n(c.urgentSaved) };
}
