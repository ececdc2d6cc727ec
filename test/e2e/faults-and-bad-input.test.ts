import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { signInLikeABrowser } from '../../src/cli/scripted-browser.js';
import {
  accountOf,
  admin,
  alice,
  deleteStored,
  expectStillServing,
  expectToolError,
  mark,
  removeDir,
  serverEnv,
  signInOob,
  since,
  STORE,
  tempConfigDir,
  tokenGrants,
  type QueryOut,
} from '../helpers/e2e-kit.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';

/**
 * REL-BACKOFF, REL-BAD-INPUT and NET-TIMEOUTS through the built server: the sandbox's fault
 * switches (429 bursts, 503/504 bodies, dropped connections, HTML pages, latency) and inputs a
 * model or a user really produces. After every failure the server must still serve.
 */

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe(`e2e: faults and bad input [${STORE} store]`, () => {
  let sandbox: RunningSandbox;
  let configDir: string;
  let server: SpawnedServer;
  let clockOffsetMs = 0;
  /** Path of the public layer's query endpoint: the faults target it only. */
  let queryPath: string;
  const publicQuery = () => server.call('arcgis_query', { url: sandbox.info.services.public, limit: 3 });
  const attempts = (m: number) => since(sandbox, m).filter((r) => r.path === queryPath);

  beforeAll(async () => {
    sandbox = await startSandbox({ clock: () => Date.now() + clockOffsetMs });
    configDir = tempConfigDir();
    server = await spawnServer(serverEnv(sandbox, configDir));
    queryPath = `${new URL(sandbox.info.services.public).pathname}/query`;
    // Warm up: the layer description is cached, so each query below is one request to `queryPath`.
    const warm = await publicQuery();
    expect(warm.isError, textOf(warm)).toBeFalsy();
  });

  afterAll(async () => {
    await server?.close();
    await deleteStored(configDir, accountOf(sandbox));
    await sandbox?.close();
    removeDir(configDir);
  });

  describe('REL-BACKOFF', () => {
    afterEach(async () => {
      await admin(sandbox, 'faults/reset');
    });

    const fault = (patch: Record<string, unknown>) =>
      admin(sandbox, 'faults', { pathIncludes: queryPath, ...patch });

    it('REL-BACKOFF: two HTTP 429s without Retry-After → retried with backoff, the query succeeds', async () => {
      await fault({ rateLimitNext: 2 });
      const m = mark(sandbox);
      const q = await publicQuery();
      expect(q.isError, textOf(q)).toBeFalsy();
      expect((q.structuredContent as QueryOut).returned).toBe(3);
      expect(attempts(m)).toHaveLength(3);
    });

    it('REL-BACKOFF: two 429s with Retry-After: 1 → each retry waits at least the second the server asked for', async () => {
      await fault({ rateLimitNext: 2, retryAfterSeconds: 1 });
      const m = mark(sandbox);
      const q = await publicQuery();
      expect(q.isError, textOf(q)).toBeFalsy();
      const times = attempts(m).map((r) => r.time);
      expect(times).toHaveLength(3);
      for (let i = 1; i < times.length; i++) {
        expect(times[i]! - times[i - 1]!, `gap before attempt ${i + 1}`).toBeGreaterThanOrEqual(995);
      }
    });

    it('REL-BACKOFF: code 429 inside an HTTP 200 body is retried too', async () => {
      await fault({ rateLimitNext: 2, rateLimitAsBody: true });
      const m = mark(sandbox);
      const q = await publicQuery();
      expect(q.isError, textOf(q)).toBeFalsy();
      expect(attempts(m)).toHaveLength(3);
    });

    it.each([503, 504] as const)('REL-BACKOFF: a %i body is retried and the query succeeds', async (code) => {
      await fault({ serverErrorNext: 1, serverErrorCode: code });
      const m = mark(sandbox);
      const q = await publicQuery();
      expect(q.isError, textOf(q)).toBeFalsy();
      expect(attempts(m)).toHaveLength(2);
    });

    it('REL-BACKOFF: a dropped connection is retried and the query succeeds', async () => {
      await fault({ dropNext: 1 });
      const m = mark(sandbox);
      const q = await publicQuery();
      expect(q.isError, textOf(q)).toBeFalsy();
      expect(attempts(m)).toHaveLength(2);
    });

    it('REL-BACKOFF: a burst longer than the retry budget → ARCGIS_RATE_LIMITED with a next step, after a bounded number of tries; the server serves on', async () => {
      await fault({ rateLimitNext: 50 });
      const m = mark(sandbox);
      const started = Date.now();
      const q = await publicQuery();
      const text = expectToolError(q, 'ARCGIS_RATE_LIMITED');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(attempts(m).length).toBeGreaterThan(1);
      expect(attempts(m).length).toBeLessThanOrEqual(5);
      // Regression guard: the error used to reach the model without any advice.
      expect(text).toMatch(/Next step:/);
      await admin(sandbox, 'faults/reset');
      await expectStillServing(server);
      const ok = await publicQuery();
      expect(ok.isError, textOf(ok)).toBeFalsy();
    });

    it('REL-BAD-INPUT: an HTML page instead of JSON → ARCGIS_BAD_RESPONSE, and the server serves on', async () => {
      await fault({ htmlNext: 1 });
      const q = await publicQuery();
      expect(expectToolError(q, 'ARCGIS_BAD_RESPONSE')).toMatch(/HTML/);
      await expectStillServing(server);
      const ok = await publicQuery();
      expect(ok.isError, textOf(ok)).toBeFalsy();
    });
  });

  describe('REL-BAD-INPUT: URLs', () => {
    it('REL-BAD-INPUT: a malformed URL → ARCGIS_INVALID_URL with a next step', async () => {
      const q = await server.call('arcgis_query', { url: 'not a url at all' });
      expect(expectToolError(q, 'ARCGIS_INVALID_URL')).toMatch(/Next step:/);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a URL that is not an ArcGIS service → ARCGIS_NOT_A_SERVICE, nothing requested', async () => {
      const m = mark(sandbox);
      const origin = new URL(sandbox.info.portalUrl).origin;
      const q = await server.call('arcgis_query', { url: `${origin}/not/a/service` });
      expect(expectToolError(q, 'ARCGIS_NOT_A_SERVICE')).toMatch(/rest\/services/);
      expect(since(sandbox, m)).toEqual([]);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a portal item page instead of a layer URL → ARCGIS_NOT_A_SERVICE explaining where the layer URL is', async () => {
      const q = await server.call('arcgis_query', {
        url: `${sandbox.info.portalUrl}/home/item.html?id=abc123`,
      });
      expect(expectToolError(q, 'ARCGIS_NOT_A_SERVICE')).toMatch(/item/i);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a service-shaped URL that does not exist → a clear not-found error', async () => {
      const q = await server.call('arcgis_query', {
        url: `${sandbox.info.hostingServerUrl}/rest/services/No_Such_Service/FeatureServer/0`,
      });
      expectToolError(q, 'ARCGIS_NOT_FOUND');
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a service root without a layer id → the error lists its layers', async () => {
      const q = await server.call('arcgis_query', { url: sandbox.info.services.publicService });
      const text = expectToolError(q, 'ARCGIS_NOT_A_SERVICE');
      expect(text).toContain(sandbox.info.services.public);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a bad where clause → the ArcGIS message, quoted, and the server serves on', async () => {
      const q = await server.call('arcgis_query', {
        url: sandbox.info.services.public,
        where: 'NO_SUCH_FIELD = 1',
      });
      const text = expectToolError(q, 'ARCGIS_BAD_REQUEST');
      expect(text).toMatch(/Cannot perform query/);
      expect(text).toMatch(/NO_SUCH_FIELD/);
      await expectStillServing(server);
    });
  });

  describe('REL-BAD-INPUT: authorization codes', () => {
    afterEach(() => {
      clockOffsetMs = 0;
    });

    async function startAndGetCode(): Promise<string> {
      const start = await server.call('arcgis_auth_url');
      expect(start.isError, textOf(start)).toBeFalsy();
      const { authorizeUrl } = start.structuredContent as { authorizeUrl: string };
      const { code } = await signInLikeABrowser(
        authorizeUrl,
        alice(sandbox).username,
        alice(sandbox).password,
      );
      expect(code).toBeTruthy();
      return code!;
    }

    it('REL-BAD-INPUT: an expired code (portal clock 11 minutes on) → OAUTH_CODE_REJECTED naming arcgis_auth_url', async () => {
      const code = await startAndGetCode();
      clockOffsetMs = 11 * 60 * 1000;
      const r = await server.call('arcgis_exchange_code', { code });
      const text = expectToolError(r, 'OAUTH_CODE_REJECTED');
      expect(text).toMatch(/expired/i);
      expect(text).toMatch(/arcgis_auth_url/);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a code from a sign-in that was replaced by a newer link → rejected clearly', async () => {
      const first = await startAndGetCode();
      const again = await server.call('arcgis_auth_url'); // the user asked for a new link
      expect(again.isError, textOf(again)).toBeFalsy();
      const r = await server.call('arcgis_exchange_code', { code: first });
      expect(
        expectToolError(r, /^(OAUTH_CODE_REJECTED|OAUTH_STATE_MISMATCH|OAUTH_NO_PENDING_SIGN_IN)\b/),
      ).toMatch(/arcgis_auth_url/);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a wrong code → OAUTH_CODE_REJECTED; a string that is no code at all → rejected before any request', async () => {
      await server.call('arcgis_auth_url');
      const wrong = await server.call('arcgis_exchange_code', { code: 'AbCdEfGh123456789' });
      expect(expectToolError(wrong, 'OAUTH_CODE_REJECTED')).toMatch(/arcgis_auth_url/);

      await server.call('arcgis_auth_url');
      const m = mark(sandbox);
      const junk = await server.call('arcgis_exchange_code', { code: 'my password is hunter2' });
      expectToolError(junk, 'OAUTH_CODE_REJECTED');
      expect(tokenGrants(since(sandbox, m))).toEqual([]);
      await expectStillServing(server);
    });

    it('REL-BAD-INPUT: a reused code → refused with a next step; the server serves on', async () => {
      const code = await startAndGetCode();
      const first = await server.call('arcgis_exchange_code', { code });
      expect(first.isError, textOf(first)).toBeFalsy();
      const reused = await server.call('arcgis_exchange_code', { code });
      expect(expectToolError(reused, /^(OAUTH_CODE_REJECTED|OAUTH_NO_PENDING_SIGN_IN)\b/)).toMatch(
        /arcgis_auth_url/,
      );
      await expectStillServing(server);
      // The replay made the portal revoke what the code produced (RFC 9700 §4.2.4): a fresh sign-in works.
      await signInOob(server, alice(sandbox));
      const q = await server.call('arcgis_query', {
        url: sandbox.info.services.private,
        returnCountOnly: true,
      });
      expect(q.isError, textOf(q)).toBeFalsy();
    });
  });

  describe('an unreachable portal', () => {
    let offline: SpawnedServer;
    let dir: string;
    let port: number;

    beforeAll(async () => {
      port = await closedPort();
      dir = tempConfigDir();
      offline = await spawnServer({
        ARCGIS_PORTAL_URL: `http://127.0.0.1:${port}/portal`,
        ARCGIS_CLIENT_ID: sandbox.info.clientId,
        ARCGIS_TOKEN_STORE: 'memory',
        ARCGIS_CONFIG_DIR: dir,
      });
    });
    afterAll(async () => {
      await offline?.close();
      removeDir(dir);
    });

    it('REL-BAD-INPUT: the sign-in flow reports ARCGIS_UNREACHABLE with the host and a next step, fast', async () => {
      const start = await offline.call('arcgis_auth_url');
      expect(start.isError, textOf(start)).toBeFalsy();
      const started = Date.now();
      const r = await offline.call('arcgis_exchange_code', { code: 'AbCdEfGh123456789' });
      const text = expectToolError(r, 'ARCGIS_UNREACHABLE');
      expect(text).toContain(`127.0.0.1:${port}`);
      expect(text).toMatch(/Next step:/);
      expect(Date.now() - started).toBeLessThan(5_000);
      await expectStillServing(offline);
    });

    it('REL-BAD-INPUT: a layer on the unreachable host → ARCGIS_UNREACHABLE; whoami still answers', async () => {
      const q = await offline.call('arcgis_query', {
        url: `http://127.0.0.1:${port}/org/arcgis/rest/services/X/FeatureServer/0`,
      });
      expectToolError(q, 'ARCGIS_UNREACHABLE');
      const who = await offline.call('arcgis_whoami');
      expect(who.isError, textOf(who)).toBeFalsy();
    });
  });

  describe('NET-TIMEOUTS', () => {
    const extra: SpawnedServer[] = [];
    const dirs: string[] = [];
    afterEach(async () => {
      await admin(sandbox, 'faults/reset');
    });
    afterAll(async () => {
      await Promise.all(extra.map((s) => s.close()));
      dirs.forEach(removeDir);
    });

    async function serverWith(env: Record<string, string>): Promise<SpawnedServer> {
      const dir = tempConfigDir();
      dirs.push(dir);
      const s = await spawnServer(serverEnv(sandbox, dir, { ARCGIS_TOKEN_STORE: 'memory', ...env }));
      extra.push(s);
      return s;
    }

    it('NET-TIMEOUTS: a service slower than ARCGIS_REQUEST_TIMEOUT_MS → ARCGIS_TIMEOUT, fast, and the server serves on', async () => {
      const s = await serverWith({ ARCGIS_REQUEST_TIMEOUT_MS: '500' });
      await admin(sandbox, 'faults', { latencyMs: 4_000, pathIncludes: queryPath });
      const started = Date.now();
      const q = await s.call('arcgis_query', { url: sandbox.info.services.public, limit: 1 });
      const elapsed = Date.now() - started;
      expect(expectToolError(q, 'ARCGIS_TIMEOUT')).toMatch(/Next step:/);
      expect(elapsed).toBeLessThan(3_000);
      await admin(sandbox, 'faults/reset');
      const ok = await s.call('arcgis_query', { url: sandbox.info.services.public, limit: 1 });
      expect(ok.isError, textOf(ok)).toBeFalsy();
    });

    it('NET-TIMEOUTS: every tool call has a deadline (ARCGIS_TOOL_DEADLINE_MS) even when each request is allowed longer', async () => {
      const s = await serverWith({ ARCGIS_TOOL_DEADLINE_MS: '1000', ARCGIS_REQUEST_TIMEOUT_MS: '30000' });
      await admin(sandbox, 'faults', { latencyMs: 5_000, pathIncludes: queryPath });
      const started = Date.now();
      const q = await s.call('arcgis_query', { url: sandbox.info.services.public, limit: 1 });
      expectToolError(q, 'ARCGIS_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(3_500);
      await admin(sandbox, 'faults/reset');
      await expectStillServing(s);
    });
  });
});
