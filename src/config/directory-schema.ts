/**
 * The `directory` config section (issue 12): mailboxes kept in step with an LDAP directory (Active Directory,
 * OpenLDAP) by `vmpilot directory sync` and, with a schedule, by the serving process (src/directory/).
 *
 *   directory:
 *     ldap:
 *       url: ldaps://dc1.example.com          # ldap:// or ldaps://
 *       startTls: false                        # ldap:// upgraded with StartTLS (RFC 4513 §3)
 *       bindDn: CN=vmpilot,OU=Service,DC=example,DC=com
 *       bindPasswordFile: /etc/vmpilot/ldap-password
 *       base: OU=Staff,DC=example,DC=com
 *       preset: activeDirectory                # or openldap: the attribute map and filter below
 *       attributes: { number: ipPhone }        # overrides of the preset's map
 *       schedule: 60                           # minutes between syncs; 0 (default): only by command
 *       pinPolicy: default-must-change
 *       defaultPin: "739164"
 *
 * Pure (no file system): load-time checks of the password file are left to the sync, which reads it.
 * The small zod helpers are repeated from schema.ts rather than imported, because schema.ts imports this module.
 */
import { z } from 'zod';
import { PIN_FORMAT } from '../store/pin.js';

/** Where each mailbox field comes from: LDAP attribute names (case-insensitive, as LDAP compares them). */
export interface DirectoryAttributeMap {
  /** A value that never changes for the entry (entryUUID, objectGUID): renames and renumbers follow it. */
  id: string;
  /** The mailbox number (spaces, dashes, dots and parentheses are removed: "+46 8-123 45 67" → "+4681234567"). */
  number: string;
  /** Attributes whose values become the mailbox's aliases (DIDs, other numbers). */
  aliases: string[];
  firstName: string;
  lastName: string;
  /** Tried in order; when none is set: "first last". */
  displayName: string[];
  email: string;
  /** An attribute whose value TRUE/true/yes/1 means: this user has no voicemail (no mailbox; an existing one is disabled). */
  noVoicemail?: string;
  /** Active Directory's userAccountControl: the ACCOUNTDISABLE bit (0x2) means the user left. */
  accountControl?: string;
}

export interface LdapDirectoryConfig {
  url: string;
  startTls: boolean;
  /** Absent: an anonymous bind. */
  bindDn?: string;
  bindPassword?: string;
  /** A file holding the password (its first line), read at each sync; keeps the secret out of the config. */
  bindPasswordFile?: string;
  /** A PEM file of CA certificates for ldaps:// and StartTLS; absent: Node's default CAs. */
  caFile?: string;
  base: string;
  /** Absent: the preset's. */
  filter?: string;
  scope: 'sub' | 'one';
  /** Entries per page of the paged search (RFC 2696); at most the server's own page limit (AD: 1000). */
  pageSize: number;
  /**
   * 0 (default): the number attribute is the mailbox number. N: the mailbox number is its last N digits (the
   * extension: "+46 8 123 45 67" → 34567 with 5), and the whole number becomes an alias (the DID).
   */
  extensionDigits: number;
  preset: 'activeDirectory' | 'openldap';
  /** Overrides of the preset's attribute map. */
  attributes: Partial<DirectoryAttributeMap>;
  /** Minutes between syncs in the serving process; 0: only `vmpilot directory sync`. */
  schedule: number;
  /** A new mailbox's PIN: random and emailed (else listed in the sync report), or defaultPin, to change at first login. */
  pinPolicy: 'random-emailed' | 'default-must-change';
  defaultPin?: string;
  /** Seconds before a connect, bind or search page gives up. */
  timeoutS: number;
}

export interface DirectoryConfig {
  ldap: LdapDirectoryConfig;
}

function section<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key (allowed here: ${allowed})` : undefined),
  });
}

const nonEmpty = z.string().min(1, 'must not be empty');
const attribute = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'is not an LDAP attribute name');

const attributesSchema = section({
  id: attribute.optional(),
  number: attribute.optional(),
  aliases: z.array(attribute).optional(),
  firstName: attribute.optional(),
  lastName: attribute.optional(),
  displayName: z.array(attribute).min(1, 'needs at least one attribute').optional(),
  email: attribute.optional(),
  noVoicemail: attribute.optional(),
  accountControl: attribute.optional(),
}).prefault({});

const ldapSchema = section({
  url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/i, 'must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]'),
  startTls: z.boolean().default(false),
  bindDn: nonEmpty.optional(),
  bindPassword: nonEmpty.optional(),
  bindPasswordFile: nonEmpty.optional(),
  caFile: nonEmpty.optional(),
  base: nonEmpty,
  filter: z.string().regex(/^\(.*\)$/s, 'must be an LDAP filter in parentheses (RFC 4515)').optional(),
  scope: z.enum(['sub', 'one'], { error: 'must be sub or one' }).default('sub'),
  pageSize: z.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(500),
  extensionDigits: z.number().int().min(0, 'must be 0 (the whole number) or more').max(15, 'must be at most 15').default(0),
  preset: z.enum(['activeDirectory', 'openldap'], { error: 'must be activeDirectory or openldap' }).default('openldap'),
  attributes: attributesSchema,
  schedule: z.number().min(0, 'must be 0 (only by command) or more minutes').max(10_080, 'must be at most 10080 (a week)').default(0),
  pinPolicy: z.enum(['random-emailed', 'default-must-change'], { error: 'must be random-emailed or default-must-change' }).default('random-emailed'),
  defaultPin: z.string().regex(PIN_FORMAT, 'must be 4 to 16 digits').optional(),
  timeoutS: z.number().positive('must be above 0').max(600, 'must be at most 600').default(30),
}).superRefine((c, ctx) => {
  if (c.bindPassword !== undefined && c.bindPasswordFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['bindPasswordFile'], message: 'give bindPassword or bindPasswordFile, not both' });
  }
  if (c.bindDn !== undefined && c.bindPassword === undefined && c.bindPasswordFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['bindDn'], message: 'needs bindPassword or bindPasswordFile' });
  }
  if (c.pinPolicy === 'default-must-change' && c.defaultPin === undefined) {
    ctx.addIssue({ code: 'custom', path: ['defaultPin'], message: 'is required with pinPolicy default-must-change' });
  }
  if (c.startTls && /^ldaps:/i.test(c.url)) {
    ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'is for ldap:// URLs (ldaps:// is TLS from the start)' });
  }
});

export const directorySchema = section({ ldap: ldapSchema }).optional();

/** The section with its files (bindPasswordFile, caFile) resolved by `resolve` (load.ts: against the config's folder). */
export function resolveDirectoryFiles(directory: DirectoryConfig, resolve: (file: string) => string): DirectoryConfig {
  const { bindPasswordFile, caFile } = directory.ldap;
  return {
    ldap: {
      ...directory.ldap,
      ...(bindPasswordFile !== undefined && { bindPasswordFile: resolve(bindPasswordFile) }),
      ...(caFile !== undefined && { caFile: resolve(caFile) }),
    },
  };
}
