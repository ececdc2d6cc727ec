import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { http, rest, withQuery } from './helpers.js';

describe('fault switches (§10.8)', () => {
  let sandbox: RunningSandbox;
  let countUrl: string;
  let infoUrl: string;
  beforeAll(async () => {
    sandbox = await startSandbox();
    countUrl = withQuery(`${sandbox.info.services.public}/query`, { f: 'json', returnCountOnly: 'true' });
    infoUrl = withQuery(rest(sandbox, '/info'), { f: 'json' });
  });
  afterEach(async () => {
    // Reset through the admin endpoint, which faults never touch.
    const res = await http(`${sandbox.info.adminUrl}/faults/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
  });
  afterAll(() => sandbox.close());

  it('adds latency', async () => {
    sandbox.faults.latencyMs = 150;
    const t0 = performance.now();
    const res = await http(countUrl);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(res.json()).toEqual({ count: 50 });
  });

  it('answers the next N requests with HTTP 429, optionally with Retry-After, then recovers', async () => {
    sandbox.faults.rateLimitNext = 2;
    sandbox.faults.retryAfterSeconds = 7;
    const first = await http(countUrl);
    const second = await http(countUrl);
    const third = await http(countUrl);
    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.json().error.code).toBe(429);
    expect(first.headers['retry-after']).toBe('7');
    expect(third.json()).toEqual({ count: 50 });
  });

  it('can send the rate limit as code 429 in an HTTP 200 body', async () => {
    sandbox.faults.rateLimitNext = 1;
    sandbox.faults.rateLimitAsBody = true;
    const res = await http(countUrl);
    expect(res.status).toBe(200);
    expect(res.json().error.code).toBe(429);
    expect(res.headers['retry-after']).toBeUndefined();
  });

  it('answers the §2 busy bodies (503 and 504) as HTTP 200', async () => {
    sandbox.faults.serverErrorNext = 1;
    const busy = await http(countUrl);
    expect(busy.status).toBe(200);
    expect(busy.json()).toEqual({ error: { code: 503, message: 'An error occurred.', details: [] } });
    sandbox.faults.serverErrorNext = 1;
    sandbox.faults.serverErrorCode = 504;
    expect((await http(countUrl)).json()).toEqual({
      error: { code: 504, message: 'Your request has timed out.', details: [] },
    });
    expect((await http(countUrl)).json()).toEqual({ count: 50 });
  });

  it('drops connections without a response', async () => {
    sandbox.faults.dropNext = 1;
    await expect(http(countUrl)).rejects.toThrow();
    expect((await http(countUrl)).json()).toEqual({ count: 50 });
  });

  it('answers HTML instead of JSON', async () => {
    sandbox.faults.htmlNext = 1;
    const res = await http(countUrl);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(() => res.json()).toThrow();
  });

  it('scope "services" leaves portal requests alone', async () => {
    sandbox.faults.scope = 'services';
    sandbox.faults.serverErrorNext = 1;
    expect((await http(infoUrl)).json().owningSystemUrl).toBe(sandbox.info.portalUrl);
    expect((await http(countUrl)).json().error.code).toBe(503);
  });

  it('pathIncludes narrows faults to matching paths', async () => {
    sandbox.faults.pathIncludes = '/Hydrants_Koop/';
    sandbox.faults.htmlNext = 1;
    expect((await http(countUrl)).json()).toEqual({ count: 50 });
    const koop = await http(
      withQuery(`${sandbox.info.services.noPagination}/query`, { f: 'json', returnCountOnly: 'true' }),
    );
    expect(koop.headers['content-type']).toMatch(/^text\/html/);
  });

  it('POST /__sandbox/faults merges JSON and refuses unknown keys', async () => {
    const set = await http(`${sandbox.info.adminUrl}/faults`, {
      method: 'POST',
      body: JSON.stringify({ rateLimitNext: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(set.json()).toMatchObject({ rateLimitNext: 1, latencyMs: 0 });
    expect(sandbox.faults.rateLimitNext).toBe(1);
    expect((await http(countUrl)).status).toBe(429);
    const bad = await http(`${sandbox.info.adminUrl}/faults`, {
      method: 'POST',
      body: JSON.stringify({ nope: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
  });

  it('starts with faults from the options', async () => {
    const other = await startSandbox({ faults: { htmlNext: 1 } });
    try {
      const res = await http(withQuery(`${other.info.services.public}/query`, { f: 'json' }));
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    } finally {
      await other.close();
    }
  });
});
