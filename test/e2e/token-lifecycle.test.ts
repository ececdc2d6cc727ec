import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import {
  accountOf,
  admin,
  alice,
  count,
  deleteStored,
  expectToolError,
  mark,
  readStored,
  removeDir,
  requestsTo,
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
 * The session lifecycle of arcgis-protocol.md §3 and security.md "Refresh and concurrency", seen
 * from outside: the built server over stdio, the sandbox's request log (which grant was used,
 * which token reached the service) and the secret store.
 */

type WhoamiOut = { profiles: Array<{ signedIn: boolean; username: string | null; problem: string | null }> };

/** A started sandbox + config dir + servers, torn down together. */
function harness() {
  const servers: SpawnedServer[] = [];
  const dirs: string[] = [];
  const sandboxes: RunningSandbox[] = [];
  return {
    async sandbox(options: Parameters<typeof startSandbox>[0] = {}) {
      const s = await startSandbox(options);
      sandboxes.push(s);
      return s;
    },
    dir() {
      const d = tempConfigDir();
      dirs.push(d);
      return d;
    },
    async spawn(env: Record<string, string>) {
      const s = await spawnServer(env);
      servers.push(s);
      return s;
    },
    async closeServers() {
      await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)));
    },
    async teardown() {
      await this.closeServers();
      for (const sb of sandboxes)
        for (const d of dirs) {
          await deleteStored(d, accountOf(sb));
        }
      await Promise.all(sandboxes.map((s) => s.close()));
      dirs.forEach(removeDir);
    },
  };
}

describe(`e2e token lifecycle [${STORE} store]`, () => {
  describe('access token expiry (default lifetimes: 30 min access, two weeks refresh)', () => {
    const h = harness();
    let sandbox: RunningSandbox;
    let server: SpawnedServer;

    beforeAll(async () => {
      sandbox = await h.sandbox();
      server = await h.spawn(serverEnv(sandbox, h.dir()));
      await signInOob(server, alice(sandbox));
      // Warm up: the server learns that the layer needs a token and caches its description.
      const warm = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
      expect(warm.isError, textOf(warm)).toBeFalsy();
    });
    afterAll(() => h.teardown());

    it('REL-REACTIVE: after the portal expires the access token, the next query refreshes once, retries once and succeeds', async () => {
      const m = mark(sandbox);
      expect(await admin(sandbox, 'expire-access-tokens')).toMatchObject({ success: true });
      const q = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 2 });
      expect(q.isError, textOf(q)).toBeFalsy();
      expect((q.structuredContent as QueryOut).accessedAs).toBe(alice(sandbox).username);

      const log = since(sandbox, m);
      expect(tokenGrants(log)).toEqual(['refresh_token']);
      const { origin } = new URL(sandbox.info.services.private);
      const queries = requestsTo(log, origin, '/Texas_Shelters/FeatureServer/0/query');
      // One rejected attempt with the dead token, one retry with the fresh one: no loop.
      expect(queries.map((r) => r.tokenKind)).toEqual(['invalid', 'user']);
    });

    it('REL-SINGLE-FLIGHT: three concurrent queries after an expiry share one refresh (in process)', async () => {
      const m = mark(sandbox);
      sandbox.expireAccessTokens();
      const results = await Promise.all(
        [1, 2, 3].map(() =>
          server.call('arcgis_query', { url: sandbox.info.services.private, returnCountOnly: true }),
        ),
      );
      for (const r of results) expect(r.isError, textOf(r)).toBeFalsy();
      expect(tokenGrants(since(sandbox, m))).toEqual(['refresh_token']);
    });
  });

  describe('REL-PROACTIVE with access tokens shorter than the 5-minute margin', () => {
    const h = harness();
    let sandbox: RunningSandbox;
    let server: SpawnedServer;

    beforeAll(async () => {
      // 120 s < 5 min: the server must refresh before every use, never presenting a dying token.
      sandbox = await h.sandbox({ tokenTtlSeconds: 120 });
      server = await h.spawn(serverEnv(sandbox, h.dir()));
      await signInOob(server, alice(sandbox));
    });
    afterAll(() => h.teardown());

    it('REL-PROACTIVE: refreshes before sending, so the service never sees an expiring or invalid token', async () => {
      const m = mark(sandbox);
      const q = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 2 });
      expect(q.isError, textOf(q)).toBeFalsy();
      expect((q.structuredContent as QueryOut).accessedAs).toBe(alice(sandbox).username);
      const log = since(sandbox, m);
      const grants = tokenGrants(log);
      expect(grants.length).toBeGreaterThanOrEqual(1);
      expect(grants.every((g) => g === 'refresh_token')).toBe(true);

      const { origin } = new URL(sandbox.info.services.private);
      const service = requestsTo(log, origin, '/Texas_Shelters/');
      const signed = service.filter((r) => r.tokenIn !== 'none');
      expect(signed.length).toBeGreaterThan(0);
      expect(signed.every((r) => r.tokenKind === 'user')).toBe(true);
      // The first signed service request came after a refresh, not after a 498.
      const firstSigned = log.indexOf(signed[0]!);
      const firstRefresh = log.findIndex((r) => /\/oauth2\/token$/i.test(r.path));
      expect(firstRefresh).toBeGreaterThanOrEqual(0);
      expect(firstRefresh).toBeLessThan(firstSigned);
    });

    it('REL-PROACTIVE: an access token that really ran out (no admin help) is replaced before use', async () => {
      const short = await startSandbox({ tokenTtlSeconds: 1 });
      const dir = tempConfigDir();
      const s = await spawnServer(serverEnv(short, dir));
      try {
        await signInOob(s, alice(short));
        await new Promise((r) => setTimeout(r, 1_100)); // the token's real lifetime; nothing to await
        const m = mark(short);
        const q = await s.call('arcgis_query', { url: short.info.services.private, returnCountOnly: true });
        expect(q.isError, textOf(q)).toBeFalsy();
        const service = requestsTo(since(short, m), new URL(short.info.services.private).origin, '/Texas_');
        expect(service.filter((r) => r.tokenKind === 'invalid')).toEqual([]);
      } finally {
        await s.close();
        await deleteStored(dir, accountOf(short));
        await short.close();
        removeDir(dir);
      }
    });
  });

  describe('refresh tokens with under 24 h left: every refresh rotates them (exchange_refresh_token)', () => {
    const h = harness();
    let sandbox: RunningSandbox;
    let dir: string;
    let env: Record<string, string>;

    beforeAll(async () => {
      sandbox = await h.sandbox({ refreshTtlSeconds: 3600 });
      dir = h.dir();
      env = serverEnv(sandbox, dir);
    });
    afterAll(() => h.teardown());
    afterEach(() => h.closeServers());

    it('STORE-ROTATION-SAFE + REL-PROACTIVE: the rotated refresh token is in the store when the query reports success, and a restart uses it', async () => {
      const server = await h.spawn(env);
      await signInOob(server, alice(sandbox));
      const before = await readStored(dir, accountOf(sandbox));
      expect(before?.username).toBe(alice(sandbox).username);

      const m = mark(sandbox);
      sandbox.expireAccessTokens();
      const q = await server.call('arcgis_query', {
        url: sandbox.info.services.private,
        returnCountOnly: true,
      });
      expect(q.isError, textOf(q)).toBeFalsy();
      expect(tokenGrants(since(sandbox, m))).toEqual(['exchange_refresh_token']);

      const after = await readStored(dir, accountOf(sandbox));
      expect(after).not.toBeNull();
      // Compare without printing either token.
      expect(after!.refreshToken === before!.refreshToken, 'the stored refresh token was not rotated').toBe(
        false,
      );
      expect(after!.refreshExpiresAt).toBeGreaterThanOrEqual(before!.refreshExpiresAt);

      // The old token is dead at the portal (§3); only the stored one can bring the session back.
      await server.close();
      const restarted = await h.spawn(env);
      const again = await restarted.call('arcgis_query', {
        url: sandbox.info.services.private,
        returnCountOnly: true,
      });
      expect(again.isError, textOf(again)).toBeFalsy();
      expect((again.structuredContent as QueryOut).accessedAs).toBe(alice(sandbox).username);
    });

    it(
      'REL-SINGLE-FLIGHT: two server processes on one stored entry rotate it once (3 rounds)',
      // Regression guard: the process that waited for the lock used to exchange the winner's freshly
      // rotated token again (it too had < 24 h left), killing the winner's tokens: ping-pong.
      async () => {
        const seed = await h.spawn(env);
        await signInOob(seed, alice(sandbox));
        await h.closeServers();
        for (let round = 1; round <= 3; round++) {
          const [a, b] = await Promise.all([h.spawn(env), h.spawn(env)]);
          sandbox.expireAccessTokens();
          const m = mark(sandbox);
          const [qa, qb] = await Promise.all(
            [a!, b!].map((s) =>
              s.call('arcgis_query', { url: sandbox.info.services.private, returnCountOnly: true }),
            ),
          );
          expect(qa!.isError, `round ${round}, A: ${textOf(qa!)}`).toBeFalsy();
          expect(qb!.isError, `round ${round}, B: ${textOf(qb!)}`).toBeFalsy();
          const grants = tokenGrants(since(sandbox, m));
          expect(count(grants, 'exchange_refresh_token'), `round ${round}: ${grants.join(', ')}`).toBe(1);
          await h.closeServers();
        }
      },
    );
  });

  describe('a dead refresh token ends the session once, clearly', () => {
    const h = harness();
    let sandbox: RunningSandbox;
    let dir: string;
    let env: Record<string, string>;
    let clockOffsetMs = 0;

    beforeAll(async () => {
      sandbox = await h.sandbox({ clock: () => Date.now() + clockOffsetMs });
      dir = h.dir();
      env = serverEnv(sandbox, dir);
    });
    afterAll(() => h.teardown());
    afterEach(async () => {
      clockOffsetMs = 0;
      await h.closeServers();
    });

    async function expectEndedOnce(server: SpawnedServer): Promise<void> {
      const m = mark(sandbox);
      const ended = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
      const text = expectToolError(ended, 'ARCGIS_SESSION_EXPIRED');
      expect(text).toMatch(/arcgis_auth_url/);
      // One refresh attempt, not a loop.
      expect(tokenGrants(since(sandbox, m)).length).toBe(1);

      const next = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
      expect(expectToolError(next, 'ARCGIS_SIGN_IN_REQUIRED')).toMatch(/arcgis_auth_url/);
      expect(await readStored(dir, accountOf(sandbox))).toBeNull();
      const who = await server.call('arcgis_whoami');
      expect((who.structuredContent as WhoamiOut).profiles[0]?.signedIn).toBe(false);

      // A restart stays signed out: nothing dead was left in the store to retry.
      await server.close();
      const restarted = await h.spawn(env);
      const who2 = await restarted.call('arcgis_whoami');
      expect((who2.structuredContent as WhoamiOut).profiles[0]?.signedIn).toBe(false);
      const q = await restarted.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
      expectToolError(q, 'ARCGIS_SIGN_IN_REQUIRED');
    }

    it('REL-REACTIVE: a revoked refresh token → one ARCGIS_SESSION_EXPIRED naming arcgis_auth_url, then sign-in required, entry deleted, restart signed out', async () => {
      const server = await h.spawn(env);
      await signInOob(server, alice(sandbox));
      const warm = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
      expect(warm.isError, textOf(warm)).toBeFalsy();
      expect(await admin(sandbox, 'revoke-all')).toMatchObject({ success: true });
      await expectEndedOnce(server);
    });

    it('REL-REACTIVE: an expired refresh token (portal clock two weeks on) → the same single clear error', async () => {
      const server = await h.spawn(env);
      await signInOob(server, alice(sandbox));
      const warm = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
      expect(warm.isError, textOf(warm)).toBeFalsy();
      clockOffsetMs = 15 * 24 * 3600 * 1000;
      await expectEndedOnce(server);
    });
  });
});
