/**
 * JSON request bodies: small, and shallow. They are parsed on the loop that also paces calls' RTP (a single
 * server), so what a token holder (or anyone, on the open sign-in) can make that loop do per request is bounded:
 *   - at most JSON_BODY_LIMIT bytes (the server's default bodyLimit: larger is 413 before it is read whole);
 *     uploads (greetings, CSV, config files) take their own content types with their own limits;
 *   - at most JSON_MAX_DEPTH levels of arrays and objects, counted by one pass over the text before JSON.parse
 *     (deeper is 400, unparsed). A megabyte of "[[[[…" took JSON.parse ~0.2 s and the whole request ~0.5 s;
 *     no request the API takes nests deeper than 3.
 * Not here: what the parsed value must look like (the routes' zod schemas, validate.ts).
 */
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem.js';

/** Largest JSON request body, bytes (a mailbox with every field is under 2 KiB). */
export const JSON_BODY_LIMIT = 64 * 1024;

/** Deepest nesting of arrays and objects a JSON body may have. */
export const JSON_MAX_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the JSON text nests arrays and objects deeper than `max` (brackets inside strings do not count).
 * Malformed text is JSON.parse's to refuse; this only answers early for well-formed depth.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * Replaces fastify's application/json parser (in `app` and the plugins registered after) with one that refuses
 * deep nesting before parsing, then parses as fastify does (its prototype-poisoning checks included).
 */
export function useShallowJsonParser(app: FastifyInstance): void {
  const { onProtoPoisoning, onConstructorPoisoning } = app.initialConfig;
  const parse = app.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (nestsDeeperThan(text, JSON_MAX_DEPTH)) return done(new HttpProblem(400, `the JSON body nests arrays and objects deeper than ${JSON_MAX_DEPTH} levels`), undefined);
    parse(request, text, done);
  });
}
