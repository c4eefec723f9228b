/**
 * The TLS files named in sip.tls: that they exist and can be read (part of every config check), and that they
 * hold what they should: a certificate, an unencrypted private key that matches it, a CA bundle (also part of
 * every config check, load.ts, so a bad file gets one clear line before anything binds instead of an OpenSSL
 * code).
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import type { TlsConfig } from './schema.js';

export interface FileIssue {
  /** "sip.tls.cert", "sip.tls.key" or "sip.tls.ca". */
  path: string;
  message: string;
}

const FILE_KEYS = ['cert', 'key', 'ca'] as const;

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? String(err);
}

/** Undefined if `file` is a readable regular file, else what is wrong with it. */
export function fileProblem(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${file} is not a regular file`;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    return `cannot read ${file}: ${errnoText(err)}`;
  }
}

/**
 * Checks the files named under the raw (unvalidated) `sip.tls` mapping, resolving relative names against
 * `baseDir`. Runs on the raw document so that these issues are reported together with schema issues.
 */
export function checkTlsFiles(rawTls: unknown, baseDir: string): FileIssue[] {
  if (typeof rawTls !== 'object' || rawTls === null) return [];
  const issues: FileIssue[] = [];
  for (const key of FILE_KEYS) {
    const name = (rawTls as Record<string, unknown>)[key];
    if (typeof name !== 'string' || name === '') continue;
    const problem = fileProblem(resolve(baseDir, name));
    if (problem !== undefined) issues.push({ path: `sip.tls.${key}`, message: problem });
  }
  return issues;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** Reads and parses the PEM files of a validated TLS config. Returns every problem found. */
export function checkTlsMaterial(tls: Pick<TlsConfig, 'cert' | 'key' | 'ca'> & Partial<TlsConfig>): FileIssue[] {
  const issues: FileIssue[] = [];
  let cert: X509Certificate | undefined;
  let key: KeyObject | undefined;
  try {
    cert = new X509Certificate(readFileSync(tls.cert));
  } catch (err) {
    issues.push({ path: 'sip.tls.cert', message: `${tls.cert} holds no PEM certificate (${firstLine(err)})` });
  }
  try {
    key = createPrivateKey(readFileSync(tls.key));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ERR_MISSING_PASSPHRASE' ? 'it is encrypted; give an unencrypted key' : firstLine(err);
    issues.push({ path: 'sip.tls.key', message: `${tls.key} holds no usable PEM private key (${why})` });
  }
  if (cert && key && !cert.checkPrivateKey(key)) {
    issues.push({ path: 'sip.tls.key', message: `${tls.key} is not the private key of the certificate in ${tls.cert}` });
  }
  if (tls.ca !== undefined) {
    try {
      new X509Certificate(readFileSync(tls.ca));
    } catch (err) {
      issues.push({ path: 'sip.tls.ca', message: `${tls.ca} holds no PEM certificate (${firstLine(err)})` });
    }
  }
  return issues;
}
