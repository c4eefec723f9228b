/**
 * The API's operations as data, for the OpenAPI document at /openapi.json: each route file describes what it
 * registers (ctx.api.describe), with the zod schemas it validates with, so the document cannot drift from the
 * code. JSON Schemas come from zod 4's own z.toJSONSchema (OpenAPI 3.1 takes JSON Schema 2020-12 as is).
 */
import { z } from 'zod';
import { VERSION } from '../config/defaults.js';
import type { PrincipalKind } from './tokens.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Operation {
  method: HttpMethod;
  /** The fastify path, e.g. "/api/mailboxes/:number" (written as {number} in the document). */
  path: string;
  summary: string;
  /** Groups operations in the document ("mailboxes", "messages", …). */
  tag: string;
  query?: z.ZodType;
  /** A JSON request body. */
  body?: z.ZodType;
  /** A request body that is not JSON, by content type (a greeting upload: "audio/*"). */
  rawBody?: string[];
  /** The JSON answered on success. */
  response?: z.ZodType;
  /** A success answer that is not JSON, by content type ("audio/wav"). */
  rawResponse?: string;
  /** The success status (default 200; 204 has no body). */
  status?: number;
  /** Answered without a token (/healthz, /readyz). */
  public?: boolean;
}

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): unknown => z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

/** The document's security scheme for each kind of caller (auth.ts). */
const SCHEMES: Record<PrincipalKind, string> = { token: 'token', owner: 'ownerSession', 'media-link': 'mediaLink' };

export class ApiCatalog {
  private readonly operations: Operation[] = [];
  /** What the server enforces per "METHOD path" (server.ts records every route's config as it is added). */
  private readonly access = new Map<string, readonly PrincipalKind[] | 'public'>();

  /** Records who may call a route, as auth.ts will enforce it: each operation's security comes from here. */
  enforced(method: string, path: string, access: readonly PrincipalKind[] | 'public'): void {
    this.access.set(`${method} ${path}`, access);
  }

  describe(op: Operation): void {
    this.operations.push(op);
  }

  /** The OpenAPI 3.1 document. */
  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of this.operations) {
      const path = op.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const params = [...op.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const query = op.query ? queryParameters(op.query) : [];
      const status = op.status ?? 200;
      const content = op.response
        ? { 'application/json': { schema: jsonSchema(op.response, 'output') } }
        : op.rawResponse
          ? { [op.rawResponse]: { schema: { type: 'string', format: 'binary' } } }
          : undefined;
      const access = this.access.get(`${op.method} ${op.path}`) ?? (op.public ? 'public' : ['token']);
      // Absent: the document's default (a token); [] for anyone; else each accepted kind's scheme.
      const security = access === 'public' ? [] : access.length === 1 && access[0] === 'token' ? undefined : access.map((k) => ({ [SCHEMES[k]]: [] }));
      paths[path] ??= {};
      paths[path][op.method.toLowerCase()] = {
        summary: op.summary,
        tags: [op.tag],
        ...(security && { security }),
        ...(params.length + query.length > 0 && { parameters: [...params, ...query] }),
        ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } }),
        ...(op.rawBody && {
          requestBody: { required: true, content: Object.fromEntries(op.rawBody.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])) },
        }),
        responses: {
          [String(status)]: { description: 'success', ...(content && { content }) },
          default: { description: 'a problem (RFC 9457)', content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } } },
        },
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'vmpilot admin API', version: VERSION },
      components: {
        securitySchemes: {
          token: { type: 'http', scheme: 'bearer', description: 'an http.tokens token (vmpilot http token NAME)' },
          ownerSession: { type: 'apiKey', in: 'cookie', name: 'vmpilot-owner', description: "a mailbox owner's web voicemail session (POST /api/me/session; __Host-vmpilot-owner over TLS)" },
          mediaLink: { type: 'apiKey', in: 'query', name: 'sig', description: 'a link signed for this very path (POST /api/web/media-links), with its by and exp parameters' },
        },
      },
      security: [{ token: [] }],
      paths,
    };
  }
}

/** Query parameters from an object schema, one per key. */
function queryParameters(schema: z.ZodType): unknown[] {
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: js.required?.includes(name) ?? false, schema: s }));
}

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};
