/**
 * A stored voicemail as the RFC 5322 email appended to its owner's IMAP folder: From the caller, Date the
 * deposit, the subject and text of the new-message email (notify/email-content.ts), the WAV attached, and
 * `X-Vmpilot-Message-Id` naming the message, which is how the sync finds it again (a search by header
 * survives UIDVALIDITY changes and clients that re-file mail).
 *
 * The audio is always attached here, whatever mailbox.emailAttachAudio says: the email IS the message in the
 * mail client. An unreadable audio file (purged meanwhile) gives an email without it rather than none.
 */
import { readFile } from 'node:fs/promises';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Mailbox, MessageRecord } from '../store/types.js';
import { emailContent } from '../notify/email-content.js';

export const MESSAGE_ID_HEADER = 'X-Vmpilot-Message-Id';

/** The caller's pseudo-address: a dialled number is no mail domain; `.invalid` (RFC 2606 §2) never routes. */
const CALLER_DOMAIN = 'voicemail.invalid';

export async function messageEmail(mailbox: Mailbox, message: MessageRecord, timeZone: string): Promise<Buffer> {
  const content = emailContent({ ...mailbox, emailAttachAudio: true }, message, timeZone);
  let audio: Buffer | undefined;
  try {
    audio = await readFile(message.audioPath);
  } catch {
    audio = undefined;
  }
  const local = message.from.replace(/[^0-9A-Za-z+*#._-]/g, '') || 'anonymous';
  const composer = new MailComposer({
    from: { name: message.fromName || message.from || 'Unknown caller', address: `${local}@${CALLER_DOMAIN}` },
    to: mailbox.email ? { name: mailbox.name, address: mailbox.email } : undefined,
    date: new Date(message.receivedAt),
    subject: content.subject,
    text: content.text,
    priority: content.urgent ? 'high' : 'normal',
    headers: { [MESSAGE_ID_HEADER]: message.id },
    attachments: audio ? [{ filename: content.attachmentName, content: audio, contentType: 'audio/wav' }] : [],
  });
  return composer.compile().build();
}
