/**
 * A config mapping whose unknown keys are errors, the message listing the keys allowed there. (schema.ts and
 * attendant-schema.ts still hold their own copies of this; new sections import it from here.)
 */
import { z } from 'zod';

export function section<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key (allowed here: ${allowed})` : undefined),
  });
}
