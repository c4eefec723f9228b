/**
 * The web admin's files (the package's web/ folder: HTML, ES modules, CSS; no build step), read into memory
 * once when the HTTP server starts: a request never touches the file system, so no request path can reach a
 * file outside the set (no "../" to resolve), and serving costs no disk I/O.
 *
 * Caching: each file has an ETag (a hash of its bytes) and "Cache-Control: no-cache": the browser keeps the
 * file and revalidates it (304, no body) on each load, so an upgraded vmpilot is seen at the next load
 * without stale modules mixed with new ones. The files are a few tens of KB; revalidation is cheap.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Every file under `root` whose type we serve, by its path relative to `root` with "/" separators. */
export async function loadStaticFiles(root: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (contentType === undefined) continue;
    const full = join(entry.parentPath, entry.name);
    const body = await readFile(full);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(relative(root, full).split(sep).join('/'), { body, contentType, etag });
  }
  return files;
}

/** Whether an If-None-Match header names this ETag (RFC 9110 §13.1.2: a list, or "*"). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
