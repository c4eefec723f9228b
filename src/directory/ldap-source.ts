/**
 * Reads the directory's users: one connection (ldaps://, or ldap:// upgraded with StartTLS when asked), one
 * bind, one paged search (RFC 2696 Simple Paged Results: `pageSize` entries a page, so 100,000 entries pass a
 * server's size limit, as AD's MaxPageSize of 1000), then unbind. Entries are read into DirectoryUser values
 * page by page; the raw entries are not kept.
 */
import { readFile } from 'node:fs/promises';
import { Client, InvalidCredentialsError } from 'ldapts';
import type { LdapDirectoryConfig } from '../config/directory-schema.js';
import { attributeMap, BINARY_ATTRIBUTES, requestedAttributes, searchFilter } from './attribute-map.js';
import { isProblem, readEntry, type DirectoryUser, type EntryProblem, type LdapEntry } from './directory-user.js';

/** The directory could not be read (connect, TLS, bind, search): the sync changes nothing. */
export class DirectoryError extends Error {
  override name = 'DirectoryError';
}

export interface DirectoryRead {
  users: DirectoryUser[];
  problems: EntryProblem[];
  /** Entries the search returned, and pages it took. */
  entries: number;
  pages: number;
}

async function bindPassword(config: LdapDirectoryConfig): Promise<string | undefined> {
  if (config.bindPasswordFile === undefined) return config.bindPassword;
  try {
    return (await readFile(config.bindPasswordFile, 'utf8')).split(/\r?\n/)[0];
  } catch (err) {
    throw new DirectoryError(`cannot read directory.ldap.bindPasswordFile ${config.bindPasswordFile}: ${(err as Error).message}`);
  }
}

async function readCa(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new DirectoryError(`cannot read directory.ldap.caFile ${file}: ${(err as Error).message}`);
  }
}

function why(err: unknown): string {
  const e = err as Error & { code?: unknown };
  return e.message?.trim() ? e.message.trim() : `${e.name ?? 'error'}${e.code !== undefined ? ` (code ${String(e.code)})` : ''}`;
}

export async function readDirectory(config: LdapDirectoryConfig): Promise<DirectoryRead> {
  const map = attributeMap(config);
  const timeout = config.timeoutS * 1000;
  const ca = config.caFile !== undefined ? await readCa(config.caFile) : undefined;
  // ldaps:// takes the CA at connect, ldap:// at StartTLS; each its own object: ldapts adds the socket to the
  // StartTLS options, and the same object given to both made the upgrade fail ("socket disconnected").
  const ldaps = /^ldaps:/i.test(config.url);
  const client = new Client({ url: config.url, timeout, connectTimeout: timeout, ...(ldaps && ca ? { tlsOptions: { ca } } : {}) });
  const password = await bindPassword(config);
  const read: DirectoryRead = { users: [], problems: [], entries: 0, pages: 0 };
  try {
    if (config.startTls) {
      try {
        await client.startTLS(ca ? { ca } : {});
      } catch (err) {
        throw new DirectoryError(`StartTLS with ${config.url} failed: ${why(err)}`);
      }
    }
    if (config.bindDn !== undefined) {
      try {
        await client.bind(config.bindDn, password ?? '');
      } catch (err) {
        if (err instanceof InvalidCredentialsError) throw new DirectoryError(`bind as ${config.bindDn} to ${config.url} refused: invalid credentials (check bindDn and the password)`);
        throw new DirectoryError(`bind as ${config.bindDn} to ${config.url} failed: ${why(err)}`);
      }
    }
    const pages = client.searchPaginated(config.base, {
      scope: config.scope,
      filter: searchFilter(config),
      attributes: requestedAttributes(map),
      explicitBufferAttributes: BINARY_ATTRIBUTES,
      paged: { pageSize: config.pageSize },
    });
    try {
      for await (const page of pages) {
        read.pages++;
        for (const entry of page.searchEntries) {
          read.entries++;
          const user = readEntry(entry as LdapEntry, map, config);
          if (isProblem(user)) read.problems.push(user);
          else read.users.push(user);
        }
      }
    } catch (err) {
      throw new DirectoryError(`search of ${config.base} on ${config.url} failed after ${read.entries} entries: ${why(err)}`);
    }
    return read;
  } catch (err) {
    if (err instanceof DirectoryError) throw err;
    throw new DirectoryError(`directory ${config.url}: ${why(err)}`);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
