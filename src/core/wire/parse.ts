/**
 * The one entry point that validates a parsed JSON body against a wire schema and turns the
 * first problem into a `ValidationError` naming the offending field.
 */
import type { z } from 'zod';
import { ValidationError } from '../errors';

function issuePath(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * Validates a parsed JSON body against a schema. Throws `ValidationError` whose field is the path
 * of the first problem (e.g. `body.require[0].op`).
 */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown, root = 'body'): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    let path = issuePath(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path = issuePath([...issue.path, issue.keys[0]]);
      message = 'unknown member';
    } else if (issue.code === 'invalid_union') {
      message = 'must be a JSON value';
    }
    throw new ValidationError(path ? `${root}.${path}` : root, message);
  }
  return r.data;
}
