/**
 * What a new-voicemail email says: subject, plain-text body, and whether the audio goes with it. Pure (no
 * SMTP, no files): email.ts sends what this builds.
 *
 *   Subject: New voicemail from Bob Smith (27001)
 *
 *   You have a new voicemail message in mailbox 27000 (Alice Example).
 *
 *   From:      Bob Smith (27001)
 *   Received:  Tuesday, November 21, 2023 at 2:05 PM (Europe/Stockholm)
 *   Length:    0:42
 *   Priority:  urgent                                   (urgent messages only)
 *
 *   The message is attached as a WAV file.  |  Call your voicemail to listen to it.
 */
import type { Mailbox, MessageRecord } from '../store/types.js';

export interface EmailContent {
  subject: string;
  text: string;
  /** Attach the message's WAV (mailbox.emailAttachAudio). */
  attachAudio: boolean;
  /** File name for the attachment. */
  attachmentName: string;
  urgent: boolean;
}

/** "Bob Smith (27001)", "Bob Smith", "27001", or "an unknown caller". */
export function callerText(message: Pick<MessageRecord, 'from' | 'fromName'>): string {
  const name = message.fromName.trim();
  const number = message.from.trim();
  if (name && number && name !== number) return `${name} (${number})`;
  return name || number || 'an unknown caller';
}

/** m:ss, or h:mm:ss from an hour up. */
export function lengthText(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const s = String(total % 60).padStart(2, '0');
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function receivedText(ms: number, timeZone: string): string {
  const when = new Intl.DateTimeFormat('en-US', { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(ms));
  return `${when} (${timeZone})`;
}

export function emailContent(mailbox: Mailbox, message: MessageRecord, timeZone: string): EmailContent {
  const caller = callerText(message);
  const owner = mailbox.name ? ` (${mailbox.name})` : '';
  const lines = [
    `You have a new voicemail message in mailbox ${mailbox.number}${owner}.`,
    '',
    `From:      ${caller}`,
    `Received:  ${receivedText(message.receivedAt, timeZone)}`,
    `Length:    ${lengthText(message.durationMs)}`,
  ];
  if (message.urgent) lines.push('Priority:  urgent');
  lines.push('', mailbox.emailAttachAudio ? 'The message is attached as a WAV file.' : 'Call your voicemail to listen to it.', '');
  const stamp = new Date(message.receivedAt).toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  return {
    subject: `${message.urgent ? 'Urgent: n' : 'N'}ew voicemail from ${caller}`,
    text: lines.join('\n'),
    attachAudio: mailbox.emailAttachAudio,
    attachmentName: `voicemail-${mailbox.number}-${stamp}.wav`,
    urgent: message.urgent,
  };
}
