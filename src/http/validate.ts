/**
 * Request input through zod: a body, query or path parameter that does not fit its schema is a 422 problem listing every
 * failing path (the same paths `vmpilot check` prints for the config, load.ts formatPath).
 */
import type { z } from 'zod';
import { formatPath } from '../config/load.js';
import { HttpProblem } from './problem.js';

/** The parsed value, or throws a 422 HttpProblem naming what is wrong and where. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: 'body' | 'query' | 'path'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({ path: i.path.length === 0 ? what : `${what}.${formatPath(i.path)}`, message: i.message }));
  throw new HttpProblem(422, `the request ${what} is not valid`, errors);
}
