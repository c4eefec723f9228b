/**
 * HTTP range requests (RFC 9110 §14) for the audio files the API serves: a browser's audio player seeks by
 * asking for `Range: bytes=START-` and plays on from there. One range per request; a header asking for
 * several ranges, or one we cannot read, is ignored and the whole file sent (§14.2: a server MAY ignore
 * Range), and a range wholly past the end is 416 with `Content-Range: bytes *\/SIZE` (§15.5.17).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';

/** The bytes to send, inclusive; undefined: the whole file; 'unsatisfiable': 416. */
export type ByteRange = { start: number; end: number } | undefined | 'unsatisfiable';

/** Parses a Range header against a file of `size` bytes (RFC 9110 §14.1.2 byte-range-spec, suffix-range). */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // "bytes=-N": the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // Invalid: ignored (§14.1.1).
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Sends a file with Accept-Ranges, answering a Range with 206 and its part, or 416. */
export async function sendFileWithRanges(request: FastifyRequest, reply: FastifyReply, path: string, contentType: string): Promise<FastifyReply> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new HttpProblem(404, 'the audio file is missing (see the server log for store repairs)');
  }
  reply.header('accept-ranges', 'bytes').type(contentType);
  const range = parseRange(request.headers.range, size);
  if (range === 'unsatisfiable') {
    return reply.code(416).header('content-range', `bytes */${size}`).type('application/problem+json').send({
      type: 'about:blank',
      title: 'Range Not Satisfiable',
      status: 416,
      detail: `the file has ${size} bytes`,
    });
  }
  if (range === undefined) return reply.header('content-length', size).send(createReadStream(path));
  return reply
    .code(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    .header('content-length', range.end - range.start + 1)
    .send(createReadStream(path, { start: range.start, end: range.end }));
}
