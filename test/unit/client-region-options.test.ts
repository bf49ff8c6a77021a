/**
 * The options of a client of several Regions, over good and bad inputs (fast-check): exactly one
 * of `url` and `regions`, at least one Region, Region names (`__proto__` is none), http(s) URLs,
 * a `preferRegion` among them, and the order requests try them in; and SigV4 signing for the
 * Region of each URL, seen by a scripted fetch.
 */
import fc from 'fast-check';
import { endpointsOf } from '../../src/client/regions';
import { sigv4Signer } from '../../src/client/sigv4';
import { Transport } from '../../src/client/transport';

describe('options', () => {
  const good = 'http://127.0.0.1:8080';
  const names = fc.constantFrom<string>('eu-west-1', 'us-east-1', 'ap-south-1', 'local-a');

  test('exactly one of url and regions', () => {
    expect(() => new Transport({})).toThrow(/exactly one of url and regions/);
    expect(() => new Transport({ url: good, regions: { 'eu-west-1': good } })).toThrow(
      /exactly one of url and regions/,
    );
    expect(() => new Transport({ url: good, preferRegion: 'eu-west-1' })).toThrow(/preferRegion/);
  });

  test('no Region at all', () => {
    expect(() => new Transport({ regions: {} })).toThrow(/regions must name at least one Region/);
    expect(() => new Transport({ regions: [] })).toThrow(/regions must name at least one Region/);
    expect(() => new Transport({ regions: null as never })).toThrow(TypeError);
    expect(() => new Transport({ regions: [null] as never })).toThrow(/regions\[0\]/);
  });

  test('__proto__ and other names that are not Region names', () => {
    const proto = JSON.parse(`{"__proto__": "${good}"}`) as Record<string, string>;
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(() => new Transport({ regions: proto })).toThrow(/Region name.*"__proto__"/);
    expect(() => new Transport({ regions: [{ region: '__proto__', url: good }] })).toThrow(/"__proto__"/);
    expect(() => new Transport({ regions: [{ region: 'constructor', url: good }] })).not.toThrow();
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(s) || s.length > 64),
        (name) => {
          expect(() => new Transport({ regions: [{ region: name, url: good }] })).toThrow(TypeError);
          expect(() => new Transport({ regions: [{ region: name, url: good }] })).toThrow(/regions/);
        },
      ),
    );
    expect(
      () =>
        new Transport({
          regions: [
            { region: 'a', url: good },
            { region: 'a', url: good },
          ],
        }),
    ).toThrow(/twice/);
  });

  test('every URL must be http(s), named by its Region', () => {
    const bad = fc.oneof(
      fc.string(),
      fc.constantFrom('ftp://x', 'file:///etc/passwd', 'javascript:alert(1)', '', 'localhost:8080', '//host/v1'),
    );
    fc.assert(
      fc.property(names, bad, (name, url) => {
        fc.pre(!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url));
        expect(() => new Transport({ regions: { [name]: url } })).toThrow(
          `regions[${JSON.stringify(name)}] must be an http(s) URL. Received: ${JSON.stringify(url)}`,
        );
      }),
    );
    expect(() => new Transport({ regions: { 'eu-west-1': 42 as never } })).toThrow(/regions\["eu-west-1"\]/);
  });

  test('preferRegion must be one of the regions', () => {
    fc.assert(
      fc.property(fc.uniqueArray(names, { minLength: 1 }), fc.string(), (given, prefer) => {
        fc.pre(!given.includes(prefer));
        const regions = Object.fromEntries(given.map((n) => [n, good]));
        expect(() => new Transport({ regions, preferRegion: prefer })).toThrow(
          /preferRegion must be one of the regions/,
        );
      }),
    );
  });

  test('good options: the preferred Region first, the others in the order given', () => {
    fc.assert(
      fc.property(fc.uniqueArray(names, { minLength: 1 }), fc.nat(), (given, i) => {
        const prefer = given[i % given.length];
        const endpoints = endpointsOf({
          regions: given.map((region) => ({ region, url: `${good}/${region}/v1/` })),
          preferRegion: prefer,
        });
        expect(endpoints.map((e) => e.name)).toEqual([prefer, ...given.filter((n) => n !== prefer)]);
        expect(endpoints[0].url).toBe(`${good}/${prefer}`);
      }),
    );
  });

  test('failbackAfterMs is milliseconds from 0', () => {
    for (const ms of [-1, Number.NaN, Infinity, '5' as never])
      expect(() => new Transport({ regions: { a: good }, failbackAfterMs: ms })).toThrow(/failbackAfterMs/);
    expect(() => new Transport({ regions: { a: good }, failbackAfterMs: 0 })).not.toThrow();
  });

  test('a region a request names must be one of them', async () => {
    const t = new Transport({ regions: { a: good, b: good }, sleep: async () => undefined });
    await expect(t.request('GET', '/v1/health', { region: 'c' })).rejects.toThrow(/region must be one of/);
  });
});

test('SigV4 signs each request for the Region of the URL it is sent to', async () => {
  const scopes: string[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    scopes.push(/Credential=[^/]+\/\d+\/([^/]+)\//.exec((init.headers as Record<string, string>).authorization)![1]);
    if (url.includes('eu-west-1'))
      return new Response('{}', { status: 503, headers: { 'x-vesta-region': 'eu-west-1' } });
    return new Response('{}', { status: 200 });
  }) as unknown as typeof fetch;
  const t = new Transport({
    regions: {
      'eu-west-1': 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod',
      'us-east-1': 'https://vesta.example.com',
    },
    signer: sigv4Signer({
      credentials: { accessKeyId: 'AKIAVESTAUNITTEST000', secretAccessKey: 'secret' },
      region: 'ap-south-1',
    }),
    fetch: fetchFn,
    sleep: async () => undefined,
  });
  const r = await t.request('GET', '/v1/health');
  expect(scopes).toEqual(['eu-west-1', 'us-east-1']);
  expect(r.region).toBe('us-east-1');
});
