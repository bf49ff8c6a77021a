import { createHash, createHmac } from 'node:crypto';
import { type HttpRequestToSign, shouldSign, sigv4Signer } from '../../src/client/sigv4';

/**
 * The AWS Signature Version 4 test suite (aws-sig-v4-test-suite, 2015 edition, as published in
 * the IAM user guide's "Signature Version 4 test suite"): its credentials, time, region and
 * service, and the `.authz` of get-vanilla, get-vanilla-query-order-key-case and
 * post-x-www-form-urlencoded. No package in node_modules ships the suite's files.
 */
const SUITE = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  service: 'service',
  clock: { now: () => new Date('2015-08-30T12:36:00Z') },
};
const SUITE_SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

const CREDS = { accessKeyId: 'AKIAVESTAUNITTEST000', secretAccessKey: 'vesta-unit-test-secret' };
const CLOCK = { now: () => new Date('2026-03-01T09:30:00Z') };
const API = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';

function get(url: string, headers: Record<string, string> = {}): HttpRequestToSign {
  return { method: 'GET', url, headers };
}

/** Restores the given environment variables after `fn`, whatever it changed. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void> | void): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

/**
 * An independent SigV4 computation from a canonical request written out by hand, so a test
 * states the canonical path and query it expects rather than trusting the signer's.
 */
function referenceSignature(canonicalRequest: string, amzDate: string, scope: string, secret: string): string {
  const [date, region, service] = scope.split('/');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const hashed = createHash('sha256').update(canonicalRequest).digest('hex');
  return createHmac('sha256', key).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hashed}`).digest('hex');
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The signature a GET with no extra headers must carry, for a hand-written canonical URI and query. */
function expectedGetSignature(host: string, canonicalUri: string, canonicalQuery: string): string {
  const amzDate = '20260301T093000Z';
  const canonical = [
    'GET',
    canonicalUri,
    canonicalQuery,
    `host:${host}`,
    `x-amz-date:${amzDate}`,
    '',
    'host;x-amz-date',
    EMPTY_SHA256,
  ].join('\n');
  return referenceSignature(canonical, amzDate, '20260301/eu-west-1/execute-api/aws4_request', CREDS.secretAccessKey);
}

function signatureOf(headers: Record<string, string>): string {
  return /Signature=([0-9a-f]{64})$/.exec(headers.authorization)?.[1] ?? '';
}

describe('sigv4Signer reproduces the AWS SigV4 test suite', () => {
  const sign = sigv4Signer(SUITE);

  it('signs get-vanilla with the published Authorization', async () => {
    const headers = await sign(get('https://example.amazonaws.com/'));
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host;x-amz-date, ` +
        'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.host).toBe('example.amazonaws.com');
    expect(headers).not.toHaveProperty('x-amz-content-sha256');
  });

  it('signs get-vanilla-query-order-key-case with the query sorted', async () => {
    const headers = await sign(get('https://example.amazonaws.com/?Param2=value2&Param1=value1'));
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=host;x-amz-date, ` +
        'Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    );
  });

  it('signs post-x-www-form-urlencoded with its body and content type', async () => {
    const headers = await sign({
      method: 'POST',
      url: 'https://example.amazonaws.com/',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'Param1=value1',
    });
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=${SUITE_SCOPE}, SignedHeaders=content-type;host;x-amz-date, ` +
        'Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    );
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('agrees with the reference computation the path tests rely on', () => {
    const canonical = [
      'GET',
      '/',
      '',
      'host:example.amazonaws.com',
      'x-amz-date:20150830T123600Z',
      '',
      'host;x-amz-date',
      EMPTY_SHA256,
    ].join('\n');
    expect(
      referenceSignature(
        canonical,
        '20150830T123600Z',
        '20150830/us-east-1/service/aws4_request',
        SUITE.credentials.secretAccessKey,
      ),
    ).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});

describe('sigv4Signer credentials and region', () => {
  it('sends and signs the session token of temporary credentials', async () => {
    const sign = sigv4Signer({ credentials: { ...CREDS, sessionToken: 'session-token/+=' }, clock: CLOCK });
    const headers = await sign(get(`${API}/dev/v1/health`));
    expect(headers['x-amz-security-token']).toBe('session-token/+=');
    expect(headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });

  it('sends no session token for long-term credentials', async () => {
    const headers = await sigv4Signer({ credentials: CREDS, clock: CLOCK })(get(`${API}/dev/v1/health`));
    expect(headers).not.toHaveProperty('x-amz-security-token');
  });

  it('takes the region from an execute-api URL, over AWS_REGION', async () => {
    await withEnv({ AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' }, async () => {
      const headers = await sigv4Signer({ credentials: CREDS, clock: CLOCK })(get(`${API}/dev/v1/health`));
      expect(headers.authorization).toContain(
        `Credential=${CREDS.accessKeyId}/20260301/eu-west-1/execute-api/aws4_request,`,
      );
    });
  });

  it('prefers an explicit region, then AWS_REGION for a host that names none', async () => {
    await withEnv({ AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: undefined }, async () => {
      const explicit = await sigv4Signer({ credentials: CREDS, clock: CLOCK, region: 'sa-east-1' })(get(`${API}/dev`));
      const fromEnv = await sigv4Signer({ credentials: CREDS, clock: CLOCK })(
        get('https://vesta.example.com/v1/health'),
      );
      expect(explicit.authorization).toContain('/sa-east-1/execute-api/');
      expect(fromEnv.authorization).toContain('/ap-south-1/execute-api/');
    });
  });

  it('fails with a message saying how to set the region when none is known', async () => {
    await withEnv({ AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }, async () => {
      const sign = sigv4Signer({ credentials: CREDS, clock: CLOCK });
      await expect(sign(get('https://vesta.example.com/v1/health'))).rejects.toThrow(/no AWS region\. Set AWS_REGION/);
    });
  });

  it('picks up AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY through the default chain', async () => {
    await withEnv({ AWS_PROFILE: undefined, AWS_SESSION_TOKEN: undefined }, async () => {
      const headers = await sigv4Signer({ clock: CLOCK })(get(`${API}/dev/v1/health`));
      expect(headers.authorization).toContain(`Credential=${process.env.AWS_ACCESS_KEY_ID}/20260301/eu-west-1/`);
      expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAVESTATESTKEY0000\//);
    });
  });
});

describe('sigv4Signer signs the path and query as they are sent', () => {
  const sign = sigv4Signer({ credentials: CREDS, clock: CLOCK });
  const host = new URL(API).host;

  it('encodes an escaped slash in a key once more, as execute-api does', async () => {
    const headers = await sign(get(`${API}/dev/v1/ns/shop/keys/cart%2F42`));
    expect(signatureOf(headers)).toBe(expectedGetSignature(host, '/dev/v1/ns/shop/keys/cart%252F42', ''));
  });

  it('encodes a key with a space and a non-ASCII letter once more', async () => {
    const url = `${API}/dev/v1/ns/shop/keys/${encodeURIComponent('my cart ü')}`;
    expect(url).toContain('/keys/my%20cart%20%C3%BC');
    const headers = await sign(get(url));
    expect(signatureOf(headers)).toBe(
      expectedGetSignature(host, '/dev/v1/ns/shop/keys/my%2520cart%2520%25C3%25BC', ''),
    );
  });

  it('signs an unencoded key as fetch will send it, percent-encoded', async () => {
    const raw = await sign(get(`${API}/dev/v1/ns/shop/keys/my cart ü`));
    const encoded = await sign(get(`${API}/dev/v1/ns/shop/keys/my%20cart%20%C3%BC`));
    expect(raw.authorization).toBe(encoded.authorization);
  });

  it('signs query values decoded and re-encoded per RFC 3986, a plus as a plus', async () => {
    const headers = await sign(get(`${API}/dev/v1/ns/shop/keys?prefix=cart%2F4%202&after=a+b&limit=10&tag=x&tag=a`));
    expect(signatureOf(headers)).toBe(
      expectedGetSignature(host, '/dev/v1/ns/shop/keys', 'after=a%2Bb&limit=10&prefix=cart%2F4%202&tag=a&tag=x'),
    );
  });
});

describe('shouldSign', () => {
  it.each([
    [`${API}/dev`, true],
    ['https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-1.vpce.amazonaws.com/dev', true],
    ['https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/dev', true],
    ['http://127.0.0.1:8080', false],
    ['http://localhost:8080/v1', false],
    ['https://vesta.example.com/v1', false],
    ['https://execute-api.eu-west-1.amazonaws.com.evil.example/dev', false],
    ['not a url', false],
  ])('%s -> %s', async (url, expected) => {
    await withEnv({ VESTA_SIGV4: undefined }, () => {
      expect(shouldSign(url)).toBe(expected);
    });
  });

  it('signs any URL, the local stack included, when VESTA_SIGV4=1', async () => {
    await withEnv({ VESTA_SIGV4: '1' }, () => {
      expect(shouldSign('http://127.0.0.1:8080')).toBe(true);
      expect(shouldSign('https://vesta.example.com/v1')).toBe(true);
    });
  });
});
