import { Agent } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ArcGisHttpClient,
  type HttpClientOptions,
  type OriginBoundToken,
} from '../../src/arcgis/http-client.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { sendJson, startServer, type Handler, type LoopbackServer } from './support/loopback-server.js';

/**
 * The HTTP client against real `node:http` servers on 127.0.0.1 (no mocks of undici): every
 * assertion is about what actually reached a server.
 */

const TOKEN = 'tok-UNIT-access.AbC-_~123.';
const agent = new Agent({ keepAliveTimeout: 10 });
const servers: LoopbackServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await agent.close();
});

async function serve(handler: Handler): Promise<LoopbackServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

function client(options: HttpClientOptions & { delays?: number[] } = {}): ArcGisHttpClient {
  const delays = options.delays;
  return new ArcGisHttpClient({
    dispatcher: agent,
    timeoutMs: 2_000,
    retry: { random: () => 1, baseDelayMs: 100, maxDelayMs: 10_000, maxRetries: 3, ...options.retry },
    sleep: async (ms) => {
      delays?.push(ms);
    },
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
  });
}

function tokenFor(server: LoopbackServer, token = TOKEN): OriginBoundToken {
  return { token, origin: server.origin };
}

async function failure(p: Promise<unknown>): Promise<ArcGisMcpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ArcGisMcpError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

const ok =
  (body: unknown = { ok: true }): Handler =>
  (_req, res) =>
    sendJson(res, body);

describe('token transport (NET-NO-TOKEN-IN-URL)', () => {
  it('NET-NO-TOKEN-IN-URL: the token travels only in X-Esri-Authorization: Bearer', async () => {
    const s = await serve(ok());
    await client().requestJson({ url: s.url('/arcgis/rest/services/A/FeatureServer/0'), token: tokenFor(s) });
    const [req] = s.requests;
    expect(req?.headers['x-esri-authorization']).toBe(`Bearer ${TOKEN}`);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.url).not.toContain(TOKEN);
    expect(req?.url).not.toContain(encodeURIComponent(TOKEN));
    expect([...(req?.query.keys() ?? [])]).not.toContain('token');
  });

  it('NET-NO-TOKEN-IN-URL: a GET asks for f=json and carries its parameters in the query, the token not', async () => {
    const s = await serve(ok());
    await client().requestJson({
      url: s.url('/q'),
      params: { where: '1=1', returnGeometry: false, resultOffset: 0, skip: undefined, nothing: null },
      token: tokenFor(s),
    });
    const q = s.requests[0]?.query;
    expect(q?.get('f')).toBe('json');
    expect(q?.get('where')).toBe('1=1');
    expect(q?.get('returnGeometry')).toBe('false');
    expect(q?.get('resultOffset')).toBe('0');
    expect(q?.has('skip')).toBe(false);
    expect(q?.has('nothing')).toBe(false);
  });

  it.each([
    'token',
    'access_token',
    'refresh_token',
    'code',
    'code_verifier',
    'client_secret',
    'password',
    'TOKEN',
  ])('NET-NO-TOKEN-IN-URL: a GET with a "%s" parameter is refused before anything is sent', async (name) => {
    const s = await serve(ok());
    await expect(
      client().requestJson({ url: s.url('/x'), params: { [name]: 'secret-value-1234' } }),
    ).rejects.toThrow(/POST body/);
    expect(s.requests).toHaveLength(0);
  });

  it('NET-NO-TOKEN-IN-URL: a URL that already carries token= in its query is refused before anything is sent', async () => {
    const s = await serve(ok());
    const e = await failure(client().requestJson({ url: s.url('/x?f=json&token=pasted-secret-token-1234') }));
    expect(e.code).toBe('ARCGIS_INVALID_URL');
    expect(e.message).not.toContain('pasted-secret-token-1234');
    expect(s.requests).toHaveLength(0);
  });

  it('NET-NO-TOKEN-IN-URL: a GET longer than ~2000 characters becomes a POST with a form body, token still in the header', async () => {
    const s = await serve(ok());
    const where = `OBJECTID IN (${Array.from({ length: 600 }, (_, i) => i).join(',')})`;
    await client().requestJson({ url: s.url('/q'), params: { where }, token: tokenFor(s) });
    const [req] = s.requests;
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.form.get('where')).toBe(where);
    expect(req?.url).toBe('/q');
    expect(req?.headers['x-esri-authorization']).toBe(`Bearer ${TOKEN}`);
    expect(req?.body).not.toContain(TOKEN);
  });

  it('NET-ALLOWLIST: an origin-bound token is not sent to a different origin', async () => {
    const a = await serve(ok());
    const b = await serve(ok());
    await client().requestJson({ url: b.url('/x'), token: tokenFor(a) });
    expect(b.requests[0]?.headers['x-esri-authorization']).toBeUndefined();
    expect(JSON.stringify(b.requests[0])).not.toContain(TOKEN);
    expect(a.requests).toHaveLength(0);
  });

  it('sends the Referer a client=referer token is bound to (arcgis-protocol.md §4)', async () => {
    const s = await serve(ok());
    await client().requestJson({
      url: s.url('/x'),
      token: { ...tokenFor(s), referer: 'https://app.example' },
    });
    expect(s.requests[0]?.headers.referer).toBe('https://app.example');
  });
});

describe('redirects (NET-REDIRECTS)', () => {
  it('NET-REDIRECTS: a same-origin redirect is followed and keeps the token', async () => {
    const s = await serve((req, res) => {
      if (req.path === '/old') {
        res.writeHead(302, { location: '/new?f=json' });
        res.end();
      } else sendJson(res, { moved: true });
    });
    const body = await client().requestJson({ url: s.url('/old'), token: tokenFor(s) });
    expect(body).toEqual({ moved: true });
    expect(s.requests.map((r) => r.path)).toEqual(['/old', '/new']);
    expect(s.requests[1]?.headers['x-esri-authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('NET-REDIRECTS: a cross-origin redirect drops the token (the other server never sees it)', async () => {
    const other = await serve(ok({ elsewhere: true }));
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: `${other.origin}/steal` });
      res.end();
    });
    const body = await client().requestJson({ url: s.url('/x'), token: tokenFor(s) });
    expect(body).toEqual({ elsewhere: true });
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]?.headers['x-esri-authorization']).toBeUndefined();
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(other.requests[0])).not.toContain(TOKEN);
  });

  it('NET-REDIRECTS: a redirect back to the original origin after a cross-origin hop stays anonymous', async () => {
    const s = await serve((req, res) => {
      if (req.path === '/start') {
        res.writeHead(302, { location: `${other.origin}/bounce` });
        res.end();
      } else sendJson(res, { back: true });
    });
    const other = await serve((_req, res) => {
      res.writeHead(302, { location: `${s.origin}/final` });
      res.end();
    });
    await client().requestJson({ url: s.url('/start'), token: tokenFor(s) });
    expect(s.requests.map((r) => r.path)).toEqual(['/start', '/final']);
    expect(s.requests[1]?.headers['x-esri-authorization']).toBeUndefined();
  });

  it.each([301, 302, 303])('NET-REDIRECTS: a POST answered with %i is not followed', async (status) => {
    const other = await serve(ok());
    const s = await serve((_req, res) => {
      res.writeHead(status, { location: `${other.origin}/token` });
      res.end();
    });
    const e = await failure(
      client().requestJson({
        url: s.url('/oauth2/token'),
        method: 'POST',
        params: { refresh_token: 'rt-SECRET-redirect-1' },
      }),
    );
    expect(e.code).toBe('ARCGIS_BAD_RESPONSE');
    expect(e.message).not.toContain('rt-SECRET-redirect-1');
    expect(other.requests).toHaveLength(0);
  });

  // Regression: a 307/308 keeps the method and body, so a cross-origin one would carry a refresh
  // token, client secret or password in the form body to another origin.
  it('NET-REDIRECTS: a POST redirected with 307 to another origin does not carry its form body there', async () => {
    const other = await serve(ok());
    const s = await serve((_req, res) => {
      res.writeHead(307, { location: `${other.origin}/token` });
      res.end();
    });
    await client()
      .requestJson({
        url: s.url('/oauth2/token'),
        method: 'POST',
        params: { refresh_token: 'rt-SECRET-307-abc' },
      })
      .catch(() => undefined);
    expect(other.requests.map((r) => r.body).join()).not.toContain('rt-SECRET-307-abc');
  });

  it('NET-REDIRECTS: a POST redirected with 307 on the same origin is followed with its body and token', async () => {
    const s = await serve((req, res) => {
      if (req.path === '/old') {
        res.writeHead(307, { location: '/new' });
        res.end();
      } else sendJson(res, { moved: true });
    });
    const body = await client().requestJson({
      url: s.url('/old'),
      method: 'POST',
      params: { where: '1=1' },
      token: tokenFor(s),
      idempotent: true,
    });
    expect(body).toEqual({ moved: true });
    expect(s.requests[1]).toMatchObject({ method: 'POST', path: '/new' });
    expect(s.requests[1]?.form.get('where')).toBe('1=1');
    expect(s.requests[1]?.headers['x-esri-authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('NET-REDIRECTS: a redirect loop ends with ARCGIS_BAD_RESPONSE', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: '/again' });
      res.end();
    });
    const e = await failure(client().requestJson({ url: s.url('/x') }));
    expect(e.code).toBe('ARCGIS_BAD_RESPONSE');
    expect(s.requests.length).toBeLessThanOrEqual(5);
  });

  it('NET-REDIRECTS: a redirect to a non-HTTP scheme is refused', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
    });
    expect((await failure(client().requestJson({ url: s.url('/x') }))).code).toBe('ARCGIS_BAD_RESPONSE');
  });
});

describe('timeouts (NET-TIMEOUTS)', () => {
  it('NET-TIMEOUTS: a server that never answers gives a retryable ARCGIS_TIMEOUT within the timeout', async () => {
    const s = await serve(() => {
      /* never answer */
    });
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 200 }).requestJson({ url: s.url('/slow') }));
    const elapsed = Date.now() - started;
    expect(e.code).toBe('ARCGIS_TIMEOUT');
    expect(e.retryable).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('NET-TIMEOUTS: the per-request timeout overrides the client default', async () => {
    const s = await serve(() => {
      /* never answer */
    });
    const started = Date.now();
    const e = await failure(
      client({ timeoutMs: 10_000 }).requestJson({ url: s.url('/slow'), timeoutMs: 200 }),
    );
    expect(e.code).toBe('ARCGIS_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  // Regression: the body used to be read outside the network-error mapping, so a timeout there
  // escaped as a raw DOMException (an INTERNAL_ERROR in the tool).
  it('NET-TIMEOUTS: a body that stalls half way times out too', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"features":[');
    });
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 200 }).requestJson({ url: s.url('/stall') }));
    expect(e.code).toBe('ARCGIS_TIMEOUT');
    expect(e.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a caller that cancels gets CANCELLED, not a timeout', async () => {
    const s = await serve(() => {
      /* never answer */
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const e = await failure(client().requestJson({ url: s.url('/slow'), signal: controller.signal }));
    expect(e.code).toBe('CANCELLED');
  });
});

describe('retries (REL-BACKOFF)', () => {
  function sequence(...answers: Array<(res: import('node:http').ServerResponse) => void>): Handler {
    let i = 0;
    return (_req, res) => {
      const answer = answers[Math.min(i++, answers.length - 1)];
      answer?.(res);
    };
  }
  const status429 = (res: import('node:http').ServerResponse) => sendJson(res, { error: { code: 429 } }, 429);
  const success = (res: import('node:http').ServerResponse) => sendJson(res, { ok: true });

  it('REL-BACKOFF: an HTTP 429 is retried and the second answer is returned', async () => {
    const s = await serve(sequence(status429, success));
    const delays: number[] = [];
    expect(await client({ delays }).requestJson({ url: s.url('/q') })).toEqual({ ok: true });
    expect(s.requests).toHaveLength(2);
    expect(delays).toEqual([100]);
  });

  it('REL-BACKOFF: successive delays grow exponentially with jitter applied', async () => {
    const s = await serve(sequence(status429, status429, status429, success));
    const delays: number[] = [];
    await client({ delays, retry: { random: () => 0.5 } }).requestJson({ url: s.url('/q') });
    expect(delays).toEqual([50, 100, 200]);
  });

  it('REL-BACKOFF: Retry-After: 2 is honoured (2000 ms)', async () => {
    const s = await serve(
      sequence((res) => sendJson(res, { error: { code: 429 } }, 429, { 'retry-after': '2' }), success),
    );
    const delays: number[] = [];
    await client({ delays }).requestJson({ url: s.url('/q') });
    expect(delays).toEqual([2000]);
  });

  it('REL-BACKOFF: a Retry-After longer than we wait is reported, not slept through', async () => {
    const s = await serve((_req, res) =>
      sendJson(res, { error: { code: 429 } }, 429, { 'retry-after': '3600' }),
    );
    const delays: number[] = [];
    const e = await failure(client({ delays }).requestJson({ url: s.url('/q') }));
    expect(e.code).toBe('ARCGIS_RATE_LIMITED');
    expect(e.retryAfterSeconds).toBe(3600);
    expect(delays).toEqual([]);
    expect(s.requests).toHaveLength(1);
  });

  it.each([
    ['a 503 body code in HTTP 200', { error: { code: 503, message: 'An error occurred.', details: [] } }],
    [
      'a 504 body code in HTTP 200',
      { error: { code: 504, message: 'Your request has timed out.', details: [] } },
    ],
    ['a 429 body code in HTTP 200', { error: { code: 429, message: 'Too many requests' } }],
  ])('REL-BACKOFF: %s is retried', async (_name, body) => {
    const s = await serve(sequence((res) => sendJson(res, body), success));
    expect(await client().requestJson({ url: s.url('/q') })).toEqual({ ok: true });
    expect(s.requests).toHaveLength(2);
  });

  it('REL-BACKOFF: an HTML 503 from a proxy is retried', async () => {
    const s = await serve(
      sequence((res) => {
        res.writeHead(503, { 'content-type': 'text/html' });
        res.end('<html>busy</html>');
      }, success),
    );
    expect(await client().requestJson({ url: s.url('/q') })).toEqual({ ok: true });
  });

  it('REL-BACKOFF: a non-idempotent POST is not retried', async () => {
    const s = await serve(sequence(status429, success));
    const e = await failure(
      client().requestJson({ url: s.url('/oauth2/token'), method: 'POST', params: { a: 1 } }),
    );
    expect(e.code).toBe('ARCGIS_RATE_LIMITED');
    expect(s.requests).toHaveLength(1);
  });

  it('REL-BACKOFF: a read-only POST marked idempotent is retried', async () => {
    const s = await serve(sequence(status429, success));
    await client().requestJson({
      url: s.url('/q'),
      method: 'POST',
      params: { where: '1=1' },
      idempotent: true,
    });
    expect(s.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
  });

  it('REL-BACKOFF: retries are bounded by maxRetries', async () => {
    const s = await serve((_req, res) => status429(res));
    const delays: number[] = [];
    const e = await failure(client({ delays, retry: { maxRetries: 2 } }).requestJson({ url: s.url('/q') }));
    expect(e.code).toBe('ARCGIS_RATE_LIMITED');
    expect(s.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it.each([
    ['498', { error: { code: 498, message: 'Invalid token.' } }],
    ['499', { error: { code: 499, message: 'Token Required' } }],
    ['403', { error: { code: 403, message: 'No.' } }],
    ['400', { error: { code: 400, message: 'Invalid query parameters.' } }],
    ['500', { error: { code: 500, message: 'Boom.' } }],
  ])('REL-BACKOFF: a %s is not retried', async (_code, body) => {
    const s = await serve((_req, res) => sendJson(res, body));
    await failure(client().requestJson({ url: s.url('/q') }));
    expect(s.requests).toHaveLength(1);
  });
});

describe('bad answers (REL-BAD-INPUT)', () => {
  it('REL-BAD-INPUT: an answer larger than maxResponseBytes is ARCGIS_BAD_RESPONSE (declared length)', async () => {
    const s = await serve((_req, res) => sendJson(res, { big: 'x'.repeat(5_000) }));
    const e = await failure(client({ maxResponseBytes: 1_000 }).requestJson({ url: s.url('/big') }));
    expect(e.code).toBe('ARCGIS_BAD_RESPONSE');
    expect(e.nextStep).toBeTruthy();
  });

  it('REL-BAD-INPUT: an answer larger than maxResponseBytes is ARCGIS_BAD_RESPONSE (chunked, no length)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 20; i++) res.write('x'.repeat(500));
      res.end();
    });
    const e = await failure(client({ maxResponseBytes: 1_000 }).requestJson({ url: s.url('/big') }));
    expect(e.code).toBe('ARCGIS_BAD_RESPONSE');
  });

  it('REL-BAD-INPUT: an HTML page is ARCGIS_BAD_RESPONSE', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Please sign in</body></html>');
    });
    expect((await failure(client().requestJson({ url: s.url('/x') }))).code).toBe('ARCGIS_BAD_RESPONSE');
  });

  it('REL-BAD-INPUT: a dropped connection is ARCGIS_UNREACHABLE (after bounded retries)', async () => {
    const s = await serve((req, res) => {
      void req;
      res.socket?.destroy();
    });
    const e = await failure(client({ retry: { maxRetries: 1 } }).requestJson({ url: s.url('/x') }));
    expect(e.code).toBe('ARCGIS_UNREACHABLE');
    expect(e.retryable).toBe(true);
    expect(s.requests.length).toBeGreaterThanOrEqual(1);
    expect(s.requests.length).toBeLessThanOrEqual(2);
  });

  // Regression: same cause as the stalled body.
  it('REL-BAD-INPUT: a connection dropped in the middle of the body is ARCGIS_UNREACHABLE', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"features":[', () => res.socket?.destroy());
    });
    const e = await failure(client({ retry: { maxRetries: 0 } }).requestJson({ url: s.url('/x') }));
    expect(e.code).toBe('ARCGIS_UNREACHABLE');
  });

  it('REL-BAD-INPUT: nobody listening is ARCGIS_UNREACHABLE with a next step', async () => {
    const s = await serve(ok());
    const url = s.url('/x');
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const e = await failure(client().requestJson({ url }));
    expect(e.code).toBe('ARCGIS_UNREACHABLE');
    expect(e.nextStep).toBeTruthy();
  });

  it('SEC-REDACT: a network error message names the host only, never the token or query', async () => {
    const s = await serve((_req, res) => {
      res.socket?.destroy();
    });
    const e = await failure(
      client({ retry: { maxRetries: 0 } }).requestJson({
        url: s.url('/x'),
        params: { where: 'secret_where' },
        token: tokenFor(s),
      }),
    );
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).not.toContain('secret_where');
    expect(JSON.stringify(e)).not.toContain(TOKEN);
  });
});
