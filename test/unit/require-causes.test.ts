/**
 * The explanation of a `require` clause that did not hold: for any field name, stored value and
 * clause, a clause that fails is explained (never a throw), naming the clause and the field as
 * JSON, and the explanation's members agree with what was checked.
 */
import fc from 'fast-check';
import { numberFromText } from '../../src/core/decimal';
import type { JsonValue } from '../../src/core/record-view';
import { describeUnmet, explainField, holds } from '../../src/core/require';
import { REQUIRE_OPS } from '../../src/core/wire/constants';
import { newMap } from '../../src/core/values';

const exact = fc
  .constantFrom('12345678901234567890.123456789012345678', '1e-130', '-9.9e125', '0.1', '3')
  .map(numberFromText);
const value: fc.Arbitrary<JsonValue> = fc.oneof(exact, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>);
const name = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'a "b"', 'with space', 'x'.repeat(255)),
  fc.string({ minLength: 1 }),
);

test('a clause that does not hold is explained, naming the clause, the field and what was found', () => {
  fc.assert(
    fc.property(
      name,
      fc.option(value, { nil: undefined }),
      fc.constantFrom(...REQUIRE_OPS),
      value,
      fc.boolean(),
      (field, stored, op, want, keyAbsent) => {
        const fields = newMap();
        if (stored !== undefined) fields[field] = stored;
        const clause = op === 'exists' || op === 'absent' ? { field, op } : { field, op, value: want };
        const record = keyAbsent ? undefined : fields;
        if (holds(record ?? newMap(), clause)) return;
        const u = explainField('require[3]', clause, record, 'k/1');
        expect(u).toMatchObject({ clause: 'require[3]', key: 'k/1', field, op });
        if (keyAbsent) expect(u.absent).toBe('key');
        else if (stored === undefined) expect(u.absent).toBe('field');
        else expect(u.actual === stored || u.actualBytes !== undefined).toBe(true);
        const text = describeUnmet(u);
        expect(text.startsWith(`require[3] did not hold: field ${JSON.stringify(field)} of key "k/1" must `)).toBe(
          true,
        );
      },
    ),
  );
});
