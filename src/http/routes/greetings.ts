/**
 * A mailbox's greetings and recorded name (kinds unavailable, busy, temporary, name): upload in any common
 * audio format (audio-convert.ts turns it into 8 kHz mono 16-bit WAV; the phone plays it from the next call),
 * download (range requests), delete. A body that is not audio: 415 when its content type says so, 422 when
 * it claims to be audio and is not; larger than http.maxBodyBytes: 413. The stored greeting is untouched by
 * any refused upload.
 */
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import type { GreetingKind } from '../../store/types.js';
import { convertToTelephoneWav, NotAudioError } from '../audio-convert.js';
import { TOKEN_OR_MEDIA_LINK } from '../auth.js';
import type { RoutePlugin } from '../context.js';
import { HttpProblem, notFound } from '../problem.js';
import { sendFileWithRanges } from '../range.js';
import { parseInput } from '../validate.js';
import { requireMailbox } from './mailboxes.js';

const KINDS = ['unavailable', 'busy', 'temporary', 'name'] as const;
const params = z.object({ number: z.string(), kind: z.enum(KINDS) });
const putQuery = z.strictObject({ until: z.iso.datetime({ offset: true }).optional().describe('temporary greeting: played until then (ISO 8601)') });
/** Content types taken as an upload; sox then reads the format from the bytes. */
const UPLOAD_TYPES = /^(audio\/[\w.+-]+|application\/octet-stream)$/;

type KindParams = { Params: { number: string; kind: string } };

export const greetingRoutes: RoutePlugin = async (app, { ctx }) => {
  const { store, api } = ctx;
  const tag = 'greetings';
  const path = '/api/mailboxes/:number/greetings/:kind';
  // Uploads are read whole (up to http.maxBodyBytes) as a Buffer; only in this plugin (fastify encapsulation).
  app.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer', bodyLimit: ctx.config.http.maxBodyBytes }, (_request, body, done) => done(null, body));

  const target = async (raw: KindParams['Params']): Promise<{ number: string; kind: GreetingKind; file?: string }> => {
    const p = parseInput(params, raw, 'path');
    const mailbox = await requireMailbox(store, p.number);
    return { number: mailbox.number, kind: p.kind, ...(mailbox.greetings[p.kind] !== undefined && { file: mailbox.greetings[p.kind] }) };
  };

  api.describe({ method: 'GET', path, tag, summary: 'a greeting or the recorded name (WAV, 8 kHz mono 16-bit; range requests)', rawResponse: 'audio/wav' });
  // Played by the web admin's <audio> element, which fetches with a signed link (web/media-links.ts).
  app.get<KindParams>(path, { config: { access: TOKEN_OR_MEDIA_LINK } }, async (request, reply) => {
    const t = await target(request.params);
    if (t.file === undefined) throw notFound(`${t.kind} greeting of mailbox ${t.number}`);
    return sendFileWithRanges(request, reply, t.file, 'audio/wav');
  });

  api.describe({ method: 'PUT', path, tag, summary: 'upload a greeting or name in any common audio format (converted)', query: putQuery, rawBody: ['audio/*', 'application/octet-stream'], response: z.object({ kind: z.enum(KINDS), durationMs: z.number() }) });
  app.put<KindParams>(path, async (request) => {
    const q = parseInput(putQuery, request.query, 'query');
    const t = await target(request.params);
    if (!Buffer.isBuffer(request.body)) throw new HttpProblem(415, 'upload the recording as audio/* or application/octet-stream');
    if (q.until !== undefined && t.kind !== 'temporary') throw new HttpProblem(422, 'until applies to the temporary greeting only', [{ path: 'query.until', message: 'only for kind temporary' }]);
    let converted: { path: string; durationMs: number };
    try {
      converted = await convertToTelephoneWav(request.body, store.tmpDir);
    } catch (err) {
      if (err instanceof NotAudioError) throw new HttpProblem(422, err.message);
      throw err;
    }
    try {
      await store.setGreeting(t.number, t.kind, converted.path, q.until === undefined ? undefined : Date.parse(q.until));
    } finally {
      await rm(converted.path, { force: true });
    }
    return { kind: t.kind, durationMs: converted.durationMs };
  });

  api.describe({ method: 'DELETE', path, tag, summary: 'delete a greeting or the recorded name (the default greeting plays again)', status: 204 });
  app.delete<KindParams>(path, async (request, reply) => {
    const t = await target(request.params);
    if (t.file === undefined) throw notFound(`${t.kind} greeting of mailbox ${t.number}`);
    await store.setGreeting(t.number, t.kind, undefined);
    return reply.code(204).send();
  });
};
