/**
 * Many clients at once through the real handler, on one DynamoDB Local: nothing is lost.
 */
import Big from 'big.js';
import { testApi, uniqueNs } from './harness';

jest.setTimeout(120000);
const api = testApi();
afterAll(() => api.close());

test('20 clients × 10 concurrent increments end at exactly 200', async () => {
  const ns = uniqueNs();
  const client = async () => {
    for (let i = 0; i < 10; i++) {
      const r = await api.call('PATCH', `/v1/ns/${ns}/keys/counter`, { body: { increment: { n: 1 } } });
      expect([200, 201]).toContain(r.status);
    }
  };
  await Promise.all(Array.from({ length: 20 }, client));
  const got = await api.call('GET', `/v1/ns/${ns}/keys/counter`);
  expect(got.body.fields.n).toBe(200);
  expect(got.body.rev).toBe(200);
});

test('8 writers × 10 read-modify-write cycles with If-Match retries lose nothing', async () => {
  const ns = uniqueNs();
  await api.call('PUT', `/v1/ns/${ns}/keys/doc`, { body: { fields: { log: [], total: 0 } } });
  let conflicts = 0;
  const writer = async (w: number) => {
    let r = await api.call('GET', `/v1/ns/${ns}/keys/doc`);
    for (let i = 0; i < 10; i++) {
      for (;;) {
        const fields = { log: [...r.body.fields.log, `${w}:${i}`], total: r.body.fields.total + 1 };
        const put = await api.call('PUT', `/v1/ns/${ns}/keys/doc`, {
          body: { fields },
          headers: { 'If-Match': r.headers.etag },
        });
        if (put.status === 200) {
          r = put;
          break;
        }
        expect(put.status).toBe(412);
        conflicts += 1;
        // The 412 carries the current record and its ETag: merge and retry without another read.
        r = { ...put, body: put.body.current, headers: { etag: put.headers.etag } };
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
  const got = await api.call('GET', `/v1/ns/${ns}/keys/doc`);
  expect(got.body.fields.total).toBe(80);
  expect(got.body.fields.log).toHaveLength(80);
  for (let w = 0; w < 8; w++) {
    const mine = got.body.fields.log.filter((e: string) => e.startsWith(`${w}:`));
    expect(mine).toEqual(Array.from({ length: 10 }, (_, i) => `${w}:${i}`));
  }
  expect(got.body.rev).toBe(81);
  expect(conflicts).toBeGreaterThan(0);
});

test('concurrent writes in siblings mode keep every value until a PUT resolves them', async () => {
  const ns = uniqueNs();
  await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => api.call('PUT', `/v1/ns/${ns}/keys/cart`, { body: { fields: { item: i } } })),
  );
  const got = await api.call('GET', `/v1/ns/${ns}/keys/cart`);
  expect(got.status).toBe(300);
  expect(
    got.body.siblings.map((s: { fields: { item: number } }) => s.fields.item).sort((a: number, b: number) => a - b),
  ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('concurrent transactions that move an amount keep the sum', async () => {
  const ns = uniqueNs();
  await api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: { fields: { bal: 100 } } });
  await api.call('PUT', `/v1/ns/${ns}/keys/b`, { body: { fields: { bal: 100 } } });
  const move = (from: string, to: string) =>
    api.call('POST', `/v1/ns/${ns}/txn`, {
      body: {
        require: [{ key: from, field: 'bal', op: '>=', value: 10 }],
        ops: [
          { op: 'patch', key: from, increment: { bal: -10 } },
          { op: 'patch', key: to, increment: { bal: 10 } },
        ],
      },
    });
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? move('a', 'b') : move('b', 'a'))));
  for (const r of results) expect([200, 412, 503]).toContain(r.status);
  const a = (await api.call('GET', `/v1/ns/${ns}/keys/a`)).body.fields.bal;
  const b = (await api.call('GET', `/v1/ns/${ns}/keys/b`)).body.fields.bal;
  expect(a + b).toBe(200);
  expect(a).toBeGreaterThanOrEqual(0);
  expect(b).toBeGreaterThanOrEqual(0);
  const committed = results.filter((r) => r.status === 200).length;
  expect(committed).toBeGreaterThan(0);
});

describe('on numbers past what a double holds', () => {
  const json = { 'content-type': 'application/json' };
  const text = async (ns: string, key: string) => (await api.call('GET', `/v1/ns/${ns}/keys/${key}`)).text;

  test('16 clients × 10 concurrent increments past 2^53 end at the exact sum', async () => {
    const ns = uniqueNs();
    await api.call('PUT', `/v1/ns/${ns}/keys/c`, { body: '{"fields":{"n":9007199254740991,"f":0.1}}', headers: json });
    const client = async () => {
      for (let i = 0; i < 10; i++) {
        const r = await api.call('PATCH', `/v1/ns/${ns}/keys/c`, {
          body: '{"increment":{"n":1,"f":0.000000000000000001}}',
          headers: json,
        });
        expect(r.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 16 }, client));
    const got = await text(ns, 'c');
    expect(got).toContain('"n":9007199254741151');
    expect(got).toContain('"f":0.10000000000000016');
    expect(JSON.parse(got).rev).toBe(161);
  });

  test('concurrent transactions moving 0.000000000000000001 between two big balances keep the exact sum', async () => {
    const ns = uniqueNs();
    await api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: '{"fields":{"bal":12345678901234567890.5}}', headers: json });
    await api.call('PUT', `/v1/ns/${ns}/keys/b`, { body: '{"fields":{"bal":12345678901234567890.5}}', headers: json });
    const move = (from: string, to: string) =>
      api.call('POST', `/v1/ns/${ns}/txn`, {
        body: `{"ops":[{"op":"patch","key":"${from}","increment":{"bal":-0.000000000000000001}},{"op":"patch","key":"${to}","increment":{"bal":0.000000000000000001}}]}`,
        headers: json,
      });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 3 ? move('a', 'b') : move('b', 'a'))));
    for (const r of results) expect([200, 503]).toContain(r.status);
    const net = results.reduce((n, r, i) => n + (r.status === 200 ? (i % 3 ? 1 : -1) : 0), 0);
    const bal = async (key: string) => new Big(/"bal":([-0-9.e+]+)/.exec(await text(ns, key))![1]);
    const [a, b] = [await bal('a'), await bal('b')];
    expect(a.plus(b).eq(new Big('24691357802469135781'))).toBe(true);
    expect(b.minus('12345678901234567890.5').eq(new Big(net).times('1e-18'))).toBe(true);
  });
});
