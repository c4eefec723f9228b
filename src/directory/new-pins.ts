/**
 * The initial PINs of the mailboxes a sync creates (directory.ldap.pinPolicy):
 *   - default-must-change: defaultPin for everyone (one shared salted hash, as `mailbox import` does);
 *   - random-emailed: a random PIN per mailbox (one that checkPinPolicy accepts), mailed to the user through
 *     the config's SMTP server; a PIN that cannot be mailed (no address, no smtp, the send failed) is handed
 *     back for the administrator (the sync report), never logged.
 * Either way the owner must change it at the first login (importMailboxes creates with mustChangePin).
 */
import { randomInt } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { LdapDirectoryConfig } from '../config/directory-schema.js';
import type { SmtpConfig } from '../config/schema.js';
import { checkPinPolicy } from '../store/pin.js';
import { hashPins } from '../admin/mailbox-import.js';
import type { DirectoryUser } from './directory-user.js';

const RANDOM_PIN_DIGITS = 6;

export interface NewPins {
  /** number → PIN hash */
  hashes: Map<string, string>;
  /** number → PIN in clear, for random PINs only (to be mailed or reported). */
  clear: Map<string, string>;
}

export function randomPin(number: string): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** RANDOM_PIN_DIGITS)).padStart(RANDOM_PIN_DIGITS, '0');
    if (checkPinPolicy(pin, number) === undefined) return pin;
  }
}

/** `inFlight`: hashes at once (the serving process takes 1, leaving libuv's pool to the logins of calls). */
export async function newPins(users: readonly DirectoryUser[], policy: Pick<LdapDirectoryConfig, 'pinPolicy' | 'defaultPin'>, inFlight?: number): Promise<NewPins> {
  const clear = new Map<string, string>();
  const pinOf = new Map<string, string>();
  for (const u of users) {
    const pin = policy.pinPolicy === 'default-must-change' ? policy.defaultPin! : randomPin(u.number);
    pinOf.set(u.number, pin);
    if (policy.pinPolicy === 'random-emailed') clear.set(u.number, pin);
  }
  const byPin = await hashPins(pinOf.values(), undefined, inFlight);
  return { hashes: new Map([...pinOf].map(([n, pin]) => [n, byPin.get(pin)!])), clear };
}

/** Mails each user its PIN; returns the numbers whose PIN could not be mailed, with why. */
export async function mailPins(users: readonly DirectoryUser[], clear: ReadonlyMap<string, string>, smtp: SmtpConfig | undefined): Promise<Map<string, string>> {
  const undelivered = new Map<string, string>();
  const transport = smtp && nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: smtp.secure, auth: smtp.auth, connectionTimeout: 30_000, socketTimeout: 30_000 });
  try {
    for (const u of users) {
      const pin = clear.get(u.number);
      if (pin === undefined) continue;
      if (u.email === undefined) undelivered.set(u.number, 'no email address');
      else if (!transport || !smtp) undelivered.set(u.number, 'no smtp server in the config');
      else {
        try {
          await transport.sendMail({
            from: smtp.from,
            to: u.email,
            subject: `Your voicemail PIN for mailbox ${u.number}`,
            text: `Hello ${u.name},\n\nyour voicemail box ${u.number} is ready. Its PIN is ${pin}.\nYou will be asked to choose your own PIN the first time you call it.\n`,
          });
        } catch (err) {
          undelivered.set(u.number, `mail to ${u.email} failed: ${(err as Error).message}`);
        }
      }
    }
  } finally {
    transport?.close();
  }
  return undelivered;
}
