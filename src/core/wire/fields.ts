/**
 * The zod building blocks every wire schema uses: field names, JSON values, field maps and exact
 * numbers. Values are read by `values.ts` (null-prototype maps, exact numbers), wrapped as zod
 * types whose problems become issues at their path.
 */
import { z } from 'zod';
import { type Numeric, isNumeric } from '../decimal';
import { fieldNameProblem } from '../name-rules';
import { type Fields, type JsonValue, ValueProblem, readExpiries, readFields, readNumbers, readValue } from '../values';

/** A zod type from a reader of `values.ts`: its `ValueProblem` becomes an issue at its path. */
function fromReader<T>(read: (v: unknown) => T): z.ZodType<T, z.ZodTypeDef, unknown> {
  return z.unknown().transform((v, ctx) => {
    try {
      return read(v);
    } catch (e) {
      if (!(e instanceof ValueProblem)) throw e;
      ctx.addIssue({ code: 'custom', path: [...e.path], message: e.message, fatal: true });
      return z.NEVER;
    }
  });
}

export const fieldName = z.string().superRefine((s, ctx) => {
  const problem = fieldNameProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Any JSON value a field may hold. */
export const jsonValue = fromReader<JsonValue>((v) => readValue(v));
/** A number held exactly (`number` or `Decimal`) that DynamoDB can hold. */
export const numeric = fromReader<Numeric>((v) => {
  if (!isNumeric(v)) throw new ValueProblem([], 'must be a number');
  return readValue(v) as Numeric;
});
/** A record's fields: a null-prototype map of field name to value. */
export const fieldsSchema = fromReader<Fields>((v) => readFields(v));
/** Field name to exact number (`increment`). */
export const numberMap = fromReader<Record<string, Numeric>>((v) => readNumbers(v));

/** Field name to whole seconds, 1 to `MAX_EXPIRE_SECONDS` (`expire`). */
export const expireMap = fromReader<Record<string, number>>((v) => readExpiries(v));

/** An ISO-8601 UTC time, as every response carries times. */
export const timestamp = z.string();
/** A version vector: one counter per writing replica. */
export const versionVector = z.record(z.number()).readonly();
