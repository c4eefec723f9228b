/**
 * The `unifiedMessaging` config section (issue 12): voicemail appended to the owner's IMAP mailbox, read state
 * kept in step both ways (src/unified/). Pure, like schema.ts.
 *
 *   unifiedMessaging:
 *     imap:
 *       host: mail.example.com
 *       tls: implicit                 # implicit (IMAPS, port 993) | starttls (required) | none (tests only)
 *       master: { user: vmpilot, password: "..." }   # Dovecot master user: logs in as "<user>*vmpilot"
 *       userFrom: email               # the mailbox's IMAP user name under the master login: email | number
 *       folder: INBOX
 *       sweepSeconds: 60
 *       maxConnections: 10
 *
 * Per mailbox instead of (or besides) the master login: `mailboxes[].imap: { user, password }`.
 */
import { z } from 'zod';
import { section } from './section.js';

export interface ImapLogin {
  user: string;
  password: string;
}

export interface UnifiedImapConfig {
  host: string;
  /** Default 993 with tls implicit, else 143. */
  port: number;
  /** implicit: TLS from the first byte; starttls: STARTTLS required; none: cleartext (a test server on loopback). */
  tls: 'implicit' | 'starttls' | 'none';
  /** Check the server's certificate (off only for a lab server with a self-signed one). */
  rejectUnauthorized: boolean;
  /** Site-wide login (Dovecot master user): every mailbox is opened as `<user><masterSeparator><master.user>`. */
  master?: ImapLogin;
  /** Dovecot's auth_master_user_separator. */
  masterSeparator: string;
  /** Under the master login, the IMAP user name of a mailbox: its email address or its number. */
  userFrom: 'email' | 'number';
  /** The folder messages are appended to and watched in. */
  folder: string;
  /** Every mailbox is compared with its IMAP folder this often (what IDLE missed, mailboxes without IDLE). */
  sweepSeconds: number;
  /** IMAP connections held at most (each IDLEs on one mailbox); the sweep cycles the rest through them. */
  maxConnections: number;
}

export interface UnifiedMessagingConfig {
  imap?: UnifiedImapConfig;
}

export const imapLoginSchema = section({ user: z.string().min(1, 'must not be empty'), password: z.string().min(1, 'must not be empty') });

const imapSchema = section({
  host: z.string().min(1, 'must not be empty'),
  port: z.number().int().min(1).max(65535).optional(),
  tls: z.enum(['implicit', 'starttls', 'none'], { error: 'must be implicit, starttls or none' }).default('implicit'),
  rejectUnauthorized: z.boolean().default(true),
  master: imapLoginSchema.optional(),
  masterSeparator: z.string().min(1, 'must not be empty').default('*'),
  userFrom: z.enum(['email', 'number'], { error: 'must be email or number' }).default('email'),
  folder: z.string().min(1, 'must not be empty').default('INBOX'),
  sweepSeconds: z.number().min(1, 'must be at least 1').max(86_400, 'must be at most 86400').default(60),
  maxConnections: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(10),
}).transform((c): UnifiedImapConfig => ({ ...c, port: c.port ?? (c.tls === 'implicit' ? 993 : 143) }));

export const unifiedMessagingSchema = section({ imap: imapSchema.optional() }).prefault({});
