import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import {
  accountOf,
  alice,
  deleteStored,
  expectStillServing,
  expectToolError,
  mark,
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
 * ArcGIS Enterprise (arcgis-protocol.md §4, §9, §11): a portal, a federated ArcGIS Server on another
 * origin (server tokens only) and an unfederated one (its own tokens; the portal's mean nothing
 * there). The built server over stdio; the sandbox's request log shows which kind of token reached
 * which origin.
 */

const isGenerateToken = (path: string) => /\/generatetoken\/?$/i.test(path);

describe(`e2e: ArcGIS Enterprise, federated and unfederated servers [${STORE} store]`, () => {
  let sandbox: RunningSandbox;
  let configDir: string;
  let server: SpawnedServer;
  let fedOrigin: string;
  let unfedOrigin: string;
  let portalOrigin: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ enterprise: true });
    configDir = tempConfigDir();
    server = await spawnServer(serverEnv(sandbox, configDir));
    await signInOob(server, alice(sandbox));
    fedOrigin = new URL(sandbox.info.services.federated!).origin;
    unfedOrigin = new URL(sandbox.info.services.unfederatedPrivate!).origin;
    portalOrigin = new URL(sandbox.info.portalUrl).origin;
  });

  afterAll(async () => {
    await server?.close();
    await deleteStored(configDir, accountOf(sandbox));
    await sandbox?.close();
    removeDir(configDir);
  });

  it('NET-ALLOWLIST: a verified federated server is queried as the user with a server token, never the portal token', async () => {
    const m = mark(sandbox);
    const q = await server.call('arcgis_query', {
      url: sandbox.info.services.federated,
      returnCountOnly: true,
    });
    expect(q.isError, textOf(q)).toBeFalsy();
    const out = q.structuredContent as QueryOut;
    expect(out.accessedAs).toBe(alice(sandbox).username);
    expect(out.count).toBe(400);

    const log = since(sandbox, m);
    const atServer = requestsTo(log, fedOrigin);
    const signed = atServer.filter((r) => r.tokenIn !== 'none');
    expect(signed.length).toBeGreaterThan(0);
    for (const r of signed) {
      expect(r, `${r.method} ${r.path}`).toMatchObject({
        tokenIn: 'x-esri-authorization',
        tokenKind: 'server',
      });
    }
    // The portal token never reached the federated origin, in any transport.
    expect(atServer.filter((r) => r.tokenKind === 'user' || r.tokenKind === 'invalid')).toEqual([]);
    // It was minted by the portal's generateToken with serverUrl, POSTed (§11).
    const mints = requestsTo(log, portalOrigin).filter((r) => isGenerateToken(r.path));
    expect(mints).toHaveLength(1);
    expect(mints[0]).toMatchObject({ method: 'POST' });
    expect(mints[0]!.bodyKeys).toEqual(expect.arrayContaining(['serverUrl']));
    expect(mints[0]!.queryKeys).not.toContain('token');
  });

  it('NET-ALLOWLIST: a second federated query reuses the cached server token (no new generateToken)', async () => {
    const m = mark(sandbox);
    const q = await server.call('arcgis_query', { url: sandbox.info.services.federated, limit: 5 });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect((q.structuredContent as QueryOut).returned).toBe(5);
    const log = since(sandbox, m);
    expect(log.filter((r) => isGenerateToken(r.path))).toEqual([]);
    const signed = requestsTo(log, fedOrigin).filter((r) => r.tokenIn !== 'none');
    expect(signed.length).toBeGreaterThan(0);
    expect(signed.every((r) => r.tokenKind === 'server')).toBe(true);
  });

  // Regression guard: after the server's 498 the cached (portal-side dead) portal token used to be
  // reused for minting, and generateToken's 498 surfaced as ARCGIS_PERMISSION_DENIED: no refresh.
  it('REL-REACTIVE: after the portal expires every token, a federated query refreshes, mints a new server token and succeeds', async () => {
    const m = mark(sandbox);
    sandbox.expireAccessTokens();
    const q = await server.call('arcgis_query', {
      url: sandbox.info.services.federated,
      returnCountOnly: true,
    });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect((q.structuredContent as QueryOut).count).toBe(400);
    const log = since(sandbox, m);
    expect(tokenGrants(log)).toEqual(['refresh_token']);
    expect(log.filter((r) => isGenerateToken(r.path))).toHaveLength(1);
  });

  it('NET-ALLOWLIST: the unfederated server answers its public layer anonymously', async () => {
    const m = mark(sandbox);
    const q = await server.call('arcgis_query', { url: sandbox.info.services.unfederated, limit: 3 });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect((q.structuredContent as QueryOut).accessedAs).toBe('anonymous');
    expect(requestsTo(since(sandbox, m), unfedOrigin).every((r) => r.tokenIn === 'none')).toBe(true);
  });

  it('NET-ALLOWLIST: a secured layer on an unfederated server → ARCGIS_HOST_NOT_TRUSTED, and no token was sent there', async () => {
    const m = mark(sandbox);
    const q = await server.call('arcgis_query', { url: sandbox.info.services.unfederatedPrivate, limit: 3 });
    const text = expectToolError(q, 'ARCGIS_HOST_NOT_TRUSTED');
    expect(text).toMatch(/no token is sent/i);
    expect(text).toMatch(/ARCGIS_TRUSTED_HOSTS/);
    const atServer = requestsTo(since(sandbox, m), unfedOrigin);
    expect(atServer.length).toBeGreaterThan(0);
    expect(atServer.filter((r) => r.tokenIn !== 'none')).toEqual([]);
    // Over the whole run, too.
    expect(requestsTo(sandbox.requests, unfedOrigin).filter((r) => r.tokenIn !== 'none')).toEqual([]);
    await expectStillServing(server);
  });

  describe('with ARCGIS_TRUSTED_HOSTS naming the unfederated server', () => {
    let trusting: SpawnedServer;

    beforeAll(async () => {
      await server.close();
      // Same config dir and store: the session signed in above is restored, no new sign-in.
      trusting = await spawnServer(serverEnv(sandbox, configDir, { ARCGIS_TRUSTED_HOSTS: unfedOrigin }));
    });
    afterAll(() => trusting?.close());

    // An explicit http:// is accepted for loopback hosts only (product.md); a bare host means https.
    it('NET-ALLOWLIST: the portal token goes to a trusted host; its 498 is an error result and the server keeps serving', async () => {
      const m = mark(sandbox);
      const q = await trusting.call('arcgis_query', {
        url: sandbox.info.services.unfederatedPrivate,
        limit: 3,
      });
      expect(q.isError, textOf(q)).toBe(true);
      expect(q.structuredContent).toBeUndefined();
      const atServer = requestsTo(since(sandbox, m), unfedOrigin).filter((r) => r.tokenIn !== 'none');
      expect(atServer.length).toBeGreaterThan(0);
      for (const r of atServer) {
        // The user's own portal token (valid at the portal), in the header, never in the URL.
        expect(r).toMatchObject({ tokenIn: 'x-esri-authorization', tokenKind: 'user' });
      }
      await expectStillServing(trusting);
      // The user's session is intact: the portal's private layer still answers without a sign-in.
      const ok = await trusting.call('arcgis_query', {
        url: sandbox.info.services.private,
        returnCountOnly: true,
      });
      expect(ok.isError, textOf(ok)).toBeFalsy();
      expect((ok.structuredContent as QueryOut).accessedAs).toBe(alice(sandbox).username);
    });

    // Regression test for a bug found while writing it.
    it('REL-REACTIVE: a trusted server that refuses the portal token is not reported as an expired session', async () => {
      const q = await trusting.call('arcgis_query', {
        url: sandbox.info.services.unfederatedPrivate,
        limit: 1,
      });
      const text = textOf(q);
      expect(q.isError, text).toBe(true);
      expect(text).not.toMatch(/^ARCGIS_SESSION_EXPIRED/);
      expect(text).not.toMatch(/sign in again/i);
    });
  });
});
