/**
 * Fuzzing the records routes through the real handler on DynamoDB Local: generated numbers, field
 * names, keys, PATCH bodies and nesting. Every answer is below 500 and every error a problem
 * document naming what is wrong; every accepted number reads back with its exact value; a refused
 * request changes neither its own record nor a sentinel record of another namespace.
 */
import Big from 'big.js';
import fc from 'fast-check';
import { isNumeric, numericText } from '../../src/core/decimal';
import { type Reply, testApi, uniqueNs } from './harness';
import {
  Fuzzer,
  decodedKey,
  exact,
  fieldName,
  keyPath,
  numberText,
  objectText,
  rawKey,
  sameJson,
  storable,
  valueText,
} from './fuzz-gen';

const api = testApi();
const ns = uniqueNs('fz');
const sentinelNs = uniqueNs('fzs');
let sentinelEtag = '';
const fuzz = new Fuzzer(api);
const call = (method: string, path: string, body?: string, headers?: Record<string, string>) =>
  fuzz.call(method, path, body, headers);

/** Seconds of an `expire`, at and past its limits (1 to 31536000, whole), and wrong types. */
const secondsText = fc.oneof(
  fc.constantFrom(
    '0',
    '1',
    '-1',
    '30',
    '30.0',
    '1.5',
    '3e1',
    '31536000',
    '31536001',
    '1e400',
    '"30"',
    'null',
    '[]',
    '{}',
  ),
  fc.integer({ min: -5, max: 31_536_005 }).map(String),
);

/** A query value percent-encoded; a lone surrogate (which has no UTF-8) as the bytes a careless client sends. */
function queryValue(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
}

/** The record's ETag and exact fields, or the status when it has none. */
async function state(key: string): Promise<{ etag?: string; fields?: unknown; status: number }> {
  const r = await call('GET', `/v1/ns/${ns}/keys/${keyPath(key)}`);
  return r.status === 200
    ? { status: 200, etag: r.headers.etag, fields: (exact(r) as { fields: unknown }).fields }
    : { status: r.status };
}

async function sentinelUntouched(): Promise<void> {
  const r = await call('GET', `/v1/ns/${sentinelNs}/keys/sentinel`);
  expect(r.headers.etag).toBe(sentinelEtag);
}

/** Sends a write; when refused, checks that its record and the sentinel did not change. */
async function write(method: string, key: string | undefined, path: string, body?: string): Promise<Reply> {
  const before = key === undefined ? undefined : await state(key);
  const r = await call(method, path, body);
  if (r.status >= 400) {
    if (key !== undefined) expect(await state(key)).toEqual(before);
    await sentinelUntouched();
  }
  return r;
}

beforeAll(async () => {
  const r = await api.call('PUT', `/v1/ns/${sentinelNs}/keys/sentinel`, {
    body: '{"fields":{"n":12345678901234567890123,"__proto__":{"x":1}}}',
    headers: { 'content-type': 'application/json' },
  });
  expect(r.status).toBe(201);
  sentinelEtag = r.headers.etag;
});

afterAll(() => {
  api.close();
  // One line for the closing figures of a CI run.
  console.log(fuzz.summary('records fuzz'));
});

const fieldsText = objectText(fieldName, valueText(3), 6);

describe('records fuzz', () => {
  it('PUT: any body is accepted with its exact values or refused without writing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(rawKey, fc.constantFrom('k1', 'k2', 'a/b')), fieldsText, async (raw, fields) => {
        const key = decodedKey(raw);
        const body = `{"fields":${fields}}`;
        const r = await write('PUT', key, `/v1/ns/${ns}/keys/${raw}`, body);
        if (r.status >= 400) return;
        const got = exact(r) as { key: string; namespace: string; fields: unknown };
        expect(got.key).toBe(key);
        expect(got.namespace).toBe(ns);
        const sentFields = (exact({ text: body } as Reply) as { fields: unknown }).fields;
        expect(sameJson(got.fields, sentFields)).toBe(true);
        expect(sameJson((await state(key!)).fields, sentFields)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('PATCH: increments are exact decimal sums, or 422 with nothing written', async () => {
    const incr = objectText(fc.constantFrom('n', 'm', '__proto__', 'constructor', 's'), numberText, 3);
    const sets = objectText(fc.constantFrom('s', 'x', 'toString', 'n'), valueText(1), 2);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('c1', 'c2', 'c3'), incr, fc.option(sets), async (key, increment, set) => {
        const before = await state(key);
        const model = new Map<string, unknown>(before.fields ? Object.entries(before.fields as object) : []);
        const body = `{"increment":${increment}${set ? `,"set":${set}` : ''}}`;
        const r = await write('PATCH', key, `/v1/ns/${ns}/keys/${key}`, body);
        const parsed = exact({ text: body } as Reply) as {
          increment: Record<string, unknown>;
          set?: Record<string, unknown>;
        };
        if (r.status === 400) return;
        for (const [f, v] of Object.entries(parsed.set ?? {})) model.set(f, v);
        let expectStatus = 200;
        for (const [f, by] of Object.entries(parsed.increment)) {
          if (parsed.set && Object.hasOwn(parsed.set, f)) return; // a 400 case
          const cur = model.has(f) ? model.get(f) : 0;
          if (!isNumeric(cur)) expectStatus = 422;
          else {
            const sum = new Big(numericText(cur)).plus(new Big(numericText(by as never)));
            if (!storable(sum.toString())) expectStatus = 422;
            model.set(f, sum);
          }
        }
        const status = r.status === 201 ? 200 : r.status;
        if (status !== expectStatus)
          throw new Error(
            `PATCH ${body} on ${JSON.stringify(before.fields)}: expected ${expectStatus}, got ${r.text.slice(0, 300)}`,
          );
        if (r.status >= 400) return;
        const got = (exact(r) as { fields: Record<string, unknown> }).fields;
        for (const [f, v] of model) {
          if (v instanceof Big) expect([f, new Big(numericText(got[f] as never)).eq(v)]).toEqual([f, true]);
          else expect(sameJson(got[f], v)).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
  });

  it('PATCH: generated set/remove/increment/require bodies never answer 5xx and never half-apply', async () => {
    const clause = fc
      .tuple(
        fieldName,
        fc.constantFrom('==', '!=', '<', '<=', '>', '>=', 'exists', 'absent', '=~'),
        fc.option(valueText(1)),
      )
      .map(([f, op, v]) => `{"field":${JSON.stringify(f)},"op":"${op}"${v === null ? '' : `,"value":${v}`}}`);
    const part = fc.record(
      {
        set: objectText(fieldName, valueText(2), 5),
        remove: fc.array(fieldName, { maxLength: 4 }).map((xs) => JSON.stringify(xs)),
        increment: objectText(fieldName, numberText, 3),
        require: fc.array(clause, { maxLength: 3 }).map((xs) => `[${xs.join(',')}]`),
        expire: objectText(fieldName, secondsText, 3),
        persist: fc.array(fieldName, { maxLength: 3 }).map((xs) => JSON.stringify(xs)),
        other: fc.constantFrom('1', '"x"', 'null', '{}'),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('p1', 'p2', ' ', 'p/3'), part, async (key, parts) => {
        const body = `{${Object.entries(parts)
          .map(([k, v]) => `"${k}":${v}`)
          .join(',')}}`;
        await write('PATCH', key, `/v1/ns/${ns}/keys/${keyPath(key)}`, body);
      }),
      { numRuns: 600 },
    );
  });

  it('PUT with a generated expire: accepted with exactly those expiries, or refused without writing', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fieldName, valueText(1), fc.option(secondsText, { freq: 2 })), {
          maxLength: 4,
          selector: ([k]) => k,
        }),
        fc.option(fc.tuple(fieldName, secondsText), { freq: 4 }),
        async (members, stray) => {
          const fields = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
          const expiring = members.filter(([, , secs]) => secs !== null).map(([k, , secs]) => [k, secs]);
          if (stray && !members.some(([k]) => k === stray[0])) expiring.push(stray);
          const expire = `{${expiring.map(([k, secs]) => `${JSON.stringify(k)}:${secs}`).join(',')}}`;
          const body = `{"fields":${fields},"expire":${expire}}`;
          const sent = Date.now();
          const r = await write('PUT', 'x1', `/v1/ns/${ns}/keys/x1`, body);
          if (r.status >= 300) return;
          accepted++;
          const asked = (exact({ text: body } as Reply) as { expire: Record<string, number> }).expire;
          const expires = (r.body.expires ?? {}) as Record<string, string>;
          expect(Object.keys(expires).sort()).toEqual(Object.keys(asked).sort());
          for (const [f, secs] of Object.entries(asked)) {
            const due = Date.parse(expires[f]) - Number(secs) * 1000;
            expect(due).toBeGreaterThanOrEqual(sent - 5);
            expect(due).toBeLessThanOrEqual(Date.now() + 5);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(25);
  });

  it('bodies nested deeper than 64 levels are 400; up to 64 are stored and read back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 20, max: 3000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 61 }),
        async (n, arrays, m) => {
          const deep = arrays ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
          const tooDeep = await write('PUT', 'deep', `/v1/ns/${ns}/keys/deep`, `{"fields":{"v":${deep}}}`);
          // The body nests n + 2 levels: the body, `fields`, then the value.
          if (n + 2 > 64) expect(tooDeep.status).toBe(400);
          const body = `{"fields":{"v":${'['.repeat(m)}1${']'.repeat(m)},"w":{"":${'{"a":'.repeat(m)}null${'}'.repeat(m)}}}}`;
          const r = await write('PUT', 'deep', `/v1/ns/${ns}/keys/deep`, body);
          expect(r.status).toBeLessThan(300);
          expect(
            sameJson((await state('deep')).fields, (exact({ text: body } as Reply) as { fields: unknown }).fields),
          ).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a PATCH touching hundreds of fields applies atomically within the body limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 100, max: 2500 }), fc.boolean(), async (count, increments) => {
        const members = Array.from({ length: count }, (_, i) => `"f${i}.${'x'.repeat(i % 40)}":${i}`).join(',');
        const body = increments ? `{"increment":{${members}}}` : `{"set":{${members}},"remove":["gone"]}`;
        const r = await write('PATCH', 'wide', `/v1/ns/${ns}/keys/wide`, body);
        expect(r.status).toBeLessThan(300);
        const fields = (await state('wide')).fields as Record<string, unknown>;
        expect(Object.keys(fields).length).toBeGreaterThanOrEqual(count);
      }),
      { numRuns: 20 },
    );
  });

  it('GET, DELETE and list take any key and query without 5xx', async () => {
    const query = fc.record(
      {
        prefix: fc.oneof(fc.string(), rawKey),
        limit: fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.string()),
        cursor: fc.string(),
        fields: fc.oneof(fieldName, fc.constantFrom('true', 'false', 'n,__proto__')),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        rawKey,
        query,
        fc.constantFrom('GET', 'DELETE', 'LIST', 'HEAD', 'POST'),
        async (raw, q, method) => {
          const qs = Object.entries(q)
            .map(([k, v]) => `${k}=${queryValue(v)}`)
            .join('&');
          if (method === 'LIST') await call('GET', `/v1/ns/${ns}/keys?${qs}`);
          else if (method === 'DELETE') await write('DELETE', decodedKey(raw), `/v1/ns/${ns}/keys/${raw}`);
          else await call(method, `/v1/ns/${ns}/keys/${raw}?${qs}`);
        },
      ),
      { numRuns: 500 },
    );
    await sentinelUntouched();
  });

  it('malformed, mistyped and non-JSON bodies are 4xx and write nothing', async () => {
    const body = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '{"fields":',
        '{"fields":{}}}',
        '{"fields":[]}',
        '{"fields":{"a":1},"fields":{"a":2}}',
        '{"fields":{"a":NaN}}',
        '{"fields":{"a":-}}',
        '\u0000',
        '{"fields":{"a":"\\ud800"}}',
      ),
      numberText.map((n) => `{"fields":{"n":${n}},"extra":1}`),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('PUT', 'PATCH'), async (text, method) => {
        const r = await write(method, 'm1', `/v1/ns/${ns}/keys/m1`, text);
        if (r.status < 400) expect(text.startsWith('{')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('sent thousands of requests (with the routes fuzz, over 10,000 a run)', () => {
    expect(fuzz.sent).toBeGreaterThanOrEqual(6000);
    expect(fuzz.refused).toBeGreaterThan(1000);
  });
});
