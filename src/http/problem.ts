/**
 * Errors as RFC 9457 problem details (application/problem+json): every 4xx and 5xx the API sends is one of
 * these. `type` stays "about:blank" (§4.2.1: the title is then the HTTP status phrase) except where a client
 * can act on the kind of problem; `errors` (an extension member, §3.2) lists a validation failure's paths.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One failing field of a request: its path in the body or query ("aliases[1]") and what is wrong. */
export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

/** Thrown by a route handler (or a helper it calls) to answer with a problem. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail?: string,
    readonly errors?: FieldError[],
  ) {
    super(detail ?? STATUS_CODES[status] ?? String(status));
    this.name = 'HttpProblem';
  }

  body(): ProblemBody {
    return problemBody(this.status, this.detail, this.errors);
  }
}

export function problemBody(status: number, detail?: string, errors?: FieldError[]): ProblemBody {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    ...(detail !== undefined && { detail }),
    ...(errors !== undefined && { errors }),
  };
}

export function sendProblem(reply: FastifyReply, body: ProblemBody): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

export const notFound = (what: string): HttpProblem => new HttpProblem(404, `${what} not found`);
