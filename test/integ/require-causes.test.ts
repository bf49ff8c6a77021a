/**
 * Causes that explain: a `require` that does not hold answers `412` whose `detail` and `unmet`
 * name the clause, the field, the operator, the expected value and the value found (or that the
 * key or field is absent), with numbers exactly as stored and field names quoted as data. Through
 * the real handler on DynamoDB Local: PATCH, transactions (and their ops' own clauses).
 */
import fc from 'fast-check';
import { Decimal, numericText } from '../../src/core/decimal';
import { parseJson } from '../../src/core/json';
import { fieldName, numberText, storable } from './fuzz-gen';
import { type Reply, testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

const path = (ns: string, key: string) => `/v1/ns/${ns}/keys/${key.split('/').map(encodeURIComponent).join('/')}`;

/** Sends a JSON text as it is (so numbers keep every digit). */
const send = (method: string, p: string, text: string, headers: Record<string, string> = {}) =>
  api.call(method, p, { body: text, headers: { 'content-type': 'application/json', ...headers } });

const putText = (ns: string, key: string, fieldsText: string) =>
  send('PUT', path(ns, key), `{"fields": ${fieldsText}}`);

/** A PATCH that sets `touched` under these `require` clauses (JSON text). */
const patchRequiring = (ns: string, key: string, requireText: string) =>
  send('PATCH', path(ns, key), `{"set": {"touched": true}, "require": ${requireText}}`);

/** The problem's members as exact values (numbers as their decimal text). */
function members(r: Reply): Record<string, unknown> {
  return JSON.parse(JSON.stringify(parseJson(r.text, Infinity), (_k, v) => (v instanceof Decimal ? v.text : v)));
}

describe('PATCH: each operator, explained', () => {
  const ns = uniqueNs('cause');
  beforeAll(async () => {
    const r = await putText(
      ns,
      'acct/a',
      '{"balance": 12345678901234567890.123456789012345678, "tiny": 1e-130, "qty": 0, "status": "new", "tags": ["a", "b"], "frozen": true}',
    );
    expect(r.status).toBe(201);
  });

  test.each([
    [
      '{"field": "qty", "op": "==", "value": 1}',
      'require[0] did not hold: field "qty" must be == 1 but is 0',
      { field: 'qty', op: '==', expected: 1, actual: 0 },
    ],
    [
      '{"field": "status", "op": "!=", "value": "new"}',
      'require[0] did not hold: field "status" must be != "new" but is "new"',
      { field: 'status', op: '!=', expected: 'new', actual: 'new' },
    ],
    [
      '{"field": "balance", "op": "<", "value": 12345678901234567890.123456789012345677}',
      'require[0] did not hold: field "balance" must be < 12345678901234567890.123456789012345677 but is 12345678901234567890.123456789012345678',
      {
        field: 'balance',
        op: '<',
        expected: '12345678901234567890.123456789012345677',
        actual: '12345678901234567890.123456789012345678',
      },
    ],
    [
      '{"field": "tiny", "op": "<=", "value": 0}',
      'require[0] did not hold: field "tiny" must be <= 0 but is 1e-130',
      { field: 'tiny', op: '<=', expected: 0, actual: 1e-130 },
    ],
    [
      '{"field": "qty", "op": ">", "value": 0.5}',
      'require[0] did not hold: field "qty" must be > 0.5 but is 0',
      { field: 'qty', op: '>', expected: 0.5, actual: 0 },
    ],
    [
      '{"field": "balance", "op": ">=", "value": 1.2345678901234567890123456789012345679e19}',
      'require[0] did not hold: field "balance" must be >= 12345678901234567890.123456789012345679 but is 12345678901234567890.123456789012345678',
      {
        field: 'balance',
        op: '>=',
        expected: '12345678901234567890.123456789012345679',
        actual: '12345678901234567890.123456789012345678',
      },
    ],
    [
      '{"field": "missing", "op": "exists"}',
      'require[0] did not hold: field "missing" must exist but the field is absent',
      { field: 'missing', op: 'exists', absent: 'field' },
    ],
    [
      '{"field": "tags", "op": "absent"}',
      'require[0] did not hold: field "tags" must be absent but is ["a","b"]',
      { field: 'tags', op: 'absent', actual: ['a', 'b'] },
    ],
    [
      '{"field": "missing", "op": ">=", "value": 30}',
      'require[0] did not hold: field "missing" must be >= 30 but the field is absent',
      { field: 'missing', op: '>=', expected: 30, absent: 'field' },
    ],
    [
      '{"field": "status", "op": ">", "value": 3}',
      'require[0] did not hold: field "status" must be > 3 but is "new" (a string; > compares a number only with a number and a string only with a string)',
      { field: 'status', op: '>', expected: 3, actual: 'new' },
    ],
  ])('%s', async (clause, detail, unmet) => {
    const r = await patchRequiring(ns, 'acct/a', `[${clause}]`);
    expect(r.status).toBe(412);
    const p = members(r);
    expect(p).toMatchObject({
      code: 'PreconditionFailed',
      detail,
      failed: [0],
      unmet: [{ clause: 'require[0]', ...unmet }],
    });
    expect(Object.keys((p.unmet as object[])[0]).sort()).toEqual(['clause', ...Object.keys(unmet)].sort());
    expect(p.current).toMatchObject({ key: 'acct/a', rev: 1 });
    expect(r.headers.etag).toBeDefined();
  });

  test('several clauses: each failing one explained, in order; the ones that hold are not named', async () => {
    const r = await patchRequiring(
      ns,
      'acct/a',
      '[{"field": "qty", "op": "==", "value": 0}, {"field": "frozen", "op": "==", "value": false}, {"field": "gone", "op": "exists"}]',
    );
    expect(r.status).toBe(412);
    expect(members(r)).toMatchObject({
      detail:
        'require[1] did not hold: field "frozen" must be == false but is true; require[2] did not hold: field "gone" must exist but the field is absent',
      failed: [1, 2],
      unmet: [
        { clause: 'require[1]', field: 'frozen', op: '==', expected: false, actual: true },
        { clause: 'require[2]', field: 'gone', op: 'exists', absent: 'field' },
      ],
    });
  });

  test('an absent key: the record is absent, nothing is created', async () => {
    const r = await patchRequiring(ns, 'nobody', '[{"field": "qty", "op": ">=", "value": 1}]');
    expect(r.status).toBe(412);
    expect(members(r)).toEqual({
      type: 'urn:vesta:problem:PreconditionFailed',
      title: 'Precondition Failed',
      status: 412,
      code: 'PreconditionFailed',
      detail: 'require[0] did not hold: field "qty" must be >= 1 but the record is absent',
      current: null,
      failed: [0],
      unmet: [{ clause: 'require[0]', field: 'qty', op: '>=', expected: 1, absent: 'key' }],
    });
    expect((await api.call('GET', path(ns, 'nobody'))).status).toBe(404);
  });

  test('field names are data: quoted in detail, exact in unmet', async () => {
    const odd = ['__proto__', 'with space', 'say "hi"', 'back\\slash', 'constructor'];
    const fields = Object.fromEntries(odd.map((f, i) => [f, i]));
    expect((await putText(ns, 'odd', JSON.stringify(fields))).status).toBe(201);
    const clauses = odd.map((f) => ({ field: f, op: '<', value: -1 }));
    const r = await patchRequiring(ns, 'odd', JSON.stringify(clauses));
    expect(r.status).toBe(412);
    const p = members(r);
    expect(p.detail).toBe(
      odd.map((f, i) => `require[${i}] did not hold: field ${JSON.stringify(f)} must be < -1 but is ${i}`).join('; '),
    );
    expect(p.unmet).toEqual(
      odd.map((f, i) => ({ clause: `require[${i}]`, field: f, op: '<', expected: -1, actual: i })),
    );
  });

  test('a long value found is given by its size (current holds it); a long expected value is cut in detail', async () => {
    const long = 'x'.repeat(2000);
    expect((await putText(ns, 'long', JSON.stringify({ s: long }))).status).toBe(201);
    const r = await patchRequiring(ns, 'long', '[{"field": "s", "op": "==", "value": "y"}]');
    expect(r.status).toBe(412);
    const p = members(r);
    expect(p.detail).toBe(
      'require[0] did not hold: field "s" must be == "y" but holds a value too long to repeat (2002 bytes as JSON)',
    );
    expect((p.current as { fields: { s: string } }).fields.s).toBe(long);
    expect(p.unmet).toEqual([{ clause: 'require[0]', field: 's', op: '==', expected: 'y', actualBytes: 2002 }]);
    const r2 = await patchRequiring(ns, 'long', `[{"field": "s", "op": "==", "value": "${'y'.repeat(300)}"}]`);
    expect(members(r2).detail).toBe(
      `require[0] did not hold: field "s" must be == "${'y'.repeat(119)}… (302 bytes) but holds a value too long to repeat (2002 bytes as JSON)`,
    );
  });

  test('If-Match keeps its own detail and has no unmet', async () => {
    const r = await send('PATCH', path(ns, 'acct/a'), '{"set": {"x": 1}}', { 'if-match': '"nope"' });
    expect(r.status).toBe(412);
    expect(members(r).detail).toBe('If-Match did not hold');
    expect(members(r).unmet).toBeUndefined();
  });
});

describe('transactions: every kind of entry, explained', () => {
  const ns = uniqueNs('cause-txn');
  let etagA = '';
  beforeAll(async () => {
    const a = await putText(ns, 'a', '{"qty": 0.30000000000000000000000000000000000001}');
    etagA = a.headers.etag;
    expect((await putText(ns, 'c', '{"qty": 0}')).status).toBe(201);
  });

  test('etag, exists, field: what each required and what was found', async () => {
    const r = await send(
      'POST',
      `/v1/ns/${ns}/txn`,
      JSON.stringify({
        require: [
          { key: 'a', etag: '"stale"' },
          { key: 'b', etag: etagA },
          { key: 'b', exists: true },
          { key: 'a', exists: false },
          { key: 'b', field: 'qty', op: '>', value: 0 },
          { key: 'c', field: 'nope', op: '==', value: null },
          { key: 'c', field: 'qty', op: '>', value: 0 },
          { key: 'c', field: 'qty', op: '==', value: 0 },
        ],
        ops: [{ op: 'patch', key: 'c', increment: { qty: -1 } }],
      }),
    );
    expect(r.status).toBe(412);
    const p = members(r);
    expect(p.failed).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(p.current).toBeNull();
    expect(p.unmet).toEqual([
      { clause: 'require[0]', key: 'a', etag: '"stale"', actual: etagA },
      { clause: 'require[1]', key: 'b', etag: etagA, absent: 'key' },
      { clause: 'require[2]', key: 'b', exists: true, absent: 'key' },
      { clause: 'require[3]', key: 'a', exists: false, actual: true },
      { clause: 'require[4]', key: 'b', field: 'qty', op: '>', expected: 0, absent: 'key' },
      { clause: 'require[5]', key: 'c', field: 'nope', op: '==', expected: null, absent: 'field' },
      { clause: 'require[6]', key: 'c', field: 'qty', op: '>', expected: 0, actual: 0 },
    ]);
    expect(p.detail).toBe(
      [
        `require[0] did not hold: key "a" must have ETag "\\"stale\\"" but has ETag ${JSON.stringify(etagA)}`,
        `require[1] did not hold: key "b" must have ETag ${JSON.stringify(etagA)} but it is absent`,
        'require[2] did not hold: key "b" must exist but it is absent',
        'require[3] did not hold: key "a" must be absent but it exists',
        'require[4] did not hold: field "qty" of key "b" must be > 0 but key "b" is absent',
        'require[5] did not hold: field "nope" of key "c" must be == null but the field is absent',
        'require[6] did not hold: field "qty" of key "c" must be > 0 but is 0',
      ].join('; '),
    );
    expect((await api.call('GET', path(ns, 'c'))).body.rev).toBe(1);
  });

  test('exact decimals in a transaction compare and show exactly', async () => {
    const r = await send(
      'POST',
      `/v1/ns/${ns}/txn`,
      '{"require": [{"key": "a", "field": "qty", "op": ">=", "value": 0.30000000000000000000000000000000000002}], "ops": [{"op": "delete", "key": "a"}]}',
    );
    expect(r.status).toBe(412);
    expect(members(r).detail).toBe(
      'require[0] did not hold: field "qty" of key "a" must be >= 0.30000000000000000000000000000000000002 but is 0.30000000000000000000000000000000000001',
    );
    expect(r.text).toContain('"expected":0.30000000000000000000000000000000000002');
    expect(r.text).toContain('"actual":0.30000000000000000000000000000000000001');
  });

  test("an op's own require: named ops[i].require[j], with its key; failed stays empty", async () => {
    const r = await send(
      'POST',
      `/v1/ns/${ns}/txn`,
      '{"ops": [{"op": "put", "key": "z", "fields": {}}, {"op": "patch", "key": "c", "set": {"x": 1}, "require": [{"field": "qty", "op": ">=", "value": 5}]}]}',
    );
    expect(r.status).toBe(412);
    expect(members(r)).toMatchObject({
      detail: 'ops[1].require[0] did not hold: field "qty" of key "c" must be >= 5 but is 0',
      failed: [],
      unmet: [{ clause: 'ops[1].require[0]', key: 'c', field: 'qty', op: '>=', expected: 5, actual: 0 }],
      current: { key: 'c' },
    });
    expect((await api.call('GET', path(ns, 'z'))).status).toBe(404);
  });

  test('a record with siblings: the field clause cannot hold, and says why', async () => {
    const sns = uniqueNs('cause-sib');
    expect((await api.call('PUT', `/v1/ns/${sns}`, { body: { conflicts: 'siblings' } })).status).toBe(200);
    await putText(sns, 's', '{"v": 1}');
    await putText(sns, 's', '{"v": 2}');
    const r = await send(
      'POST',
      `/v1/ns/${sns}/txn`,
      '{"require": [{"key": "s", "field": "v", "op": "exists"}], "ops": [{"op": "put", "key": "t", "fields": {}}]}',
    );
    expect(r.status).toBe(412);
    expect(members(r)).toMatchObject({
      detail:
        'require[0] did not hold: field "v" of key "s" must exist but key "s" holds 2 siblings (PUT to resolve them)',
      unmet: [{ clause: 'require[0]', key: 's', field: 'v', op: 'exists', siblings: 2 }],
    });
  });
});

describe('property: any clause on any field name and exact number is a 412 naming it, never a 500', () => {
  const ns = uniqueNs('cause-fz');
  const ops = ['==', '!=', '<', '<=', '>', '>='] as const;
  // Room for the `~other` suffix; names the contract refuses are skipped below.
  const usable = fieldName.filter((f) => f.length <= 240);
  const storableNumber = numberText.filter((t) => {
    try {
      return storable(t);
    } catch {
      return false;
    }
  });

  test('the failing clauses are exactly those `failed` lists; each is explained with the stored value', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        usable,
        storableNumber,
        fc.array(fc.tuple(fc.constantFrom(...ops, 'exists', 'absent'), storableNumber, fc.boolean()), {
          minLength: 1,
          maxLength: 4,
        }),
        async (field: string, stored: string, clauses: [string, string, boolean][]) => {
          const key = `k${n++}`;
          const put = await putText(ns, key, `{${JSON.stringify(field)}: ${stored}}`);
          if (put.status !== 201) return; // a name the contract refuses (the fuzz tests cover those)
          const storedText = numericText(parseJson(stored, Infinity) as number);
          const req = clauses.map(([op, value, onOther]) => {
            const f = onOther ? `${field}~other` : field;
            return op === 'exists' || op === 'absent'
              ? `{"field": ${JSON.stringify(f)}, "op": "${op}"}`
              : `{"field": ${JSON.stringify(f)}, "op": "${op}", "value": ${value}}`;
          });
          const r = await patchRequiring(ns, key, `[${req.join(', ')}]`);
          expect(r.status === 200 || r.status === 412).toBe(true);
          if (r.status === 200) return;
          const p = members(r) as { detail: string; failed: number[]; unmet: Record<string, unknown>[] };
          expect(p.unmet.map((u) => u.clause)).toEqual(p.failed.map((i) => `require[${i}]`));
          for (const u of p.unmet) {
            const i = Number(/\[(\d+)\]/.exec(String(u.clause))![1]);
            const [op, , onOther] = clauses[i];
            expect(u.op).toBe(op);
            expect(u.field).toBe(onOther ? `${field}~other` : field);
            expect(p.detail).toContain(`${u.clause} did not hold: field ${JSON.stringify(u.field)} must `);
            if (onOther) expect(u.absent).toBe('field');
            else if (op !== 'exists') expect(String(u.actual)).toBe(storedText);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('property: transaction entries on odd keys, names and exact numbers', () => {
  const ns = uniqueNs('cause-fzt');
  const storableNumber = numberText.filter((t) => {
    try {
      return storable(t);
    } catch {
      return false;
    }
  });

  test('every entry that does not hold is explained with its key; nothing is written', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fieldName.filter((f) => f.length <= 255),
        storableNumber,
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom('==', '!=', '<', '<=', '>', '>=', 'exists', 'absent'), storableNumber), {
          minLength: 1,
          maxLength: 4,
        }),
        async (field: string, stored: string, present: boolean, clauses: [string, string][]) => {
          const key = `t ${n++}/"q"`;
          if (present) {
            const put = await putText(ns, key, `{${JSON.stringify(field)}: ${stored}}`);
            if (put.status !== 201) return;
          }
          const req = clauses.map(([op, value]) =>
            op === 'exists' || op === 'absent'
              ? `{"key": ${JSON.stringify(key)}, "field": ${JSON.stringify(field)}, "op": "${op}"}`
              : `{"key": ${JSON.stringify(key)}, "field": ${JSON.stringify(field)}, "op": "${op}", "value": ${value}}`,
          );
          const r = await send(
            'POST',
            `/v1/ns/${ns}/txn`,
            `{"require": [${req.join(', ')}], "ops": [{"op": "put", "key": "${ns}-never", "fields": {}}]}`,
          );
          if (r.status === 400) return; // a field name the contract refuses
          expect([200, 412]).toContain(r.status);
          if (r.status === 200) {
            await api.call('DELETE', path(ns, `${ns}-never`));
            return;
          }
          const p = members(r) as { detail: string; failed: number[]; unmet: Record<string, unknown>[] };
          expect(p.unmet.map((u) => u.clause)).toEqual(p.failed.map((i) => `require[${i}]`));
          for (const u of p.unmet) {
            expect(u).toMatchObject({ key, field });
            if (!present) expect(u.absent).toBe('key');
            expect(p.detail).toContain(
              `${u.clause} did not hold: field ${JSON.stringify(field)} of key ${JSON.stringify(key)} must `,
            );
          }
          expect((await api.call('GET', path(ns, `${ns}-never`))).status).toBe(404);
        },
      ),
      { numRuns: 40 },
    );
  });
});
