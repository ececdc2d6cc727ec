import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RecordedRequest, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import {
  accountOf,
  alice,
  deleteStored,
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
 * Where the user's tokens travel, read from the sandbox's request log (which records the transport
 * and kind of every token, never its value): NET-PUBLIC-FIRST, NET-NO-TOKEN-IN-URL and
 * AUTH-TOKEN-ENDPOINT, over a run that exercises every way the server talks to ArcGIS.
 */

/** Parameter names that must never appear in a URL (AUTH-TOKEN-ENDPOINT, NET-NO-TOKEN-IN-URL). */
const SECRET_NAMES = [
  'token',
  'access_token',
  'refresh_token',
  'auth_token',
  'code',
  'code_verifier',
  'client_secret',
  'password',
];

const isCredentialEndpoint = (r: RecordedRequest) =>
  /\/oauth2\/(token|revoketoken)\/?$/i.test(r.path) || /\/generatetoken\/?$/i.test(r.path);

/** The browser's own requests (authorize page and form post) are the user's, not the server's. */
const isBrowser = (r: RecordedRequest) => /\/oauth2\/(authorize|signin)/i.test(r.path);

function expectNoSecretInAnyUrl(log: readonly RecordedRequest[]): void {
  for (const r of log.filter((x) => !isBrowser(x))) {
    const leaked = r.queryKeys.filter((k) => SECRET_NAMES.includes(k.toLowerCase()));
    expect(leaked, `${r.method} ${r.origin}${r.path}`).toEqual([]);
    expect(r.tokenIn, `${r.method} ${r.origin}${r.path}`).not.toBe('query');
  }
}

function expectCredentialCallsArePosts(log: readonly RecordedRequest[]): void {
  for (const r of log.filter(isCredentialEndpoint)) {
    expect(r.method, r.path).toBe('POST');
    expect(
      r.queryKeys.filter((k) => SECRET_NAMES.includes(k.toLowerCase())),
      r.path,
    ).toEqual([]);
  }
}

describe(`e2e: where tokens go [${STORE} store]`, () => {
  let sandbox: RunningSandbox;
  let configDir: string;
  let server: SpawnedServer;
  let hostingOrigin: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ enterprise: true });
    configDir = tempConfigDir();
    server = await spawnServer(serverEnv(sandbox, configDir));
    await signInOob(server, alice(sandbox));
    hostingOrigin = new URL(sandbox.info.services.private).origin;
  });

  afterAll(async () => {
    await server?.close();
    await deleteStored(configDir, accountOf(sandbox));
    await sandbox?.close();
    removeDir(configDir);
  });

  it('NET-PUBLIC-FIRST: a public layer gets no token, even with a user signed in', async () => {
    const m = mark(sandbox);
    const calls = [
      { url: sandbox.info.services.public, limit: 3 },
      { url: sandbox.info.services.public, returnCountOnly: true },
      { url: sandbox.info.services.public, where: '1=1', limit: 2, offset: 2 },
      { url: sandbox.info.services.noPagination, limit: 2 },
    ];
    for (const args of calls) {
      const q = await server.call('arcgis_query', args);
      expect(q.isError, textOf(q)).toBeFalsy();
      expect((q.structuredContent as QueryOut).accessedAs).toBe('anonymous');
    }
    const log = since(sandbox, m);
    expect(log.length).toBeGreaterThanOrEqual(calls.length);
    expect(log.filter((r) => r.tokenIn !== 'none')).toEqual([]);
    // Nothing at the portal either: no refresh, no identity call for a public answer.
    expect(log.filter((r) => r.path.toLowerCase().startsWith('/portal'))).toEqual([]);
  });

  it('NET-PUBLIC-FIRST: a private layer costs one anonymous probe once; after that, one signed request per query', async () => {
    const layerPath = new URL(sandbox.info.services.private).pathname;
    const first = mark(sandbox);
    const q1 = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 2 });
    expect(q1.isError, textOf(q1)).toBeFalsy();
    const firstLog = requestsTo(since(sandbox, first), hostingOrigin, layerPath);
    expect(firstLog[0]?.tokenIn, 'the very first request is the anonymous probe').toBe('none');
    expect(firstLog.filter((r) => r.tokenIn === 'none')).toHaveLength(1);
    expect(firstLog.slice(1).every((r) => r.tokenIn === 'x-esri-authorization')).toBe(true);

    for (const args of [
      { url: sandbox.info.services.private, limit: 5 },
      { url: sandbox.info.services.private, returnCountOnly: true },
      { url: sandbox.info.services.private, where: "STATUS = 'Open'", limit: 1 },
    ]) {
      const m = mark(sandbox);
      const q = await server.call('arcgis_query', args);
      expect(q.isError, textOf(q)).toBeFalsy();
      expect((q.structuredContent as QueryOut).accessedAs).toBe(alice(sandbox).username);
      const log = since(sandbox, m);
      expect(
        log.map((r) => `${r.method} ${r.path} ${r.tokenIn}`),
        JSON.stringify(args),
      ).toEqual([`GET ${layerPath}/query x-esri-authorization`]);
    }
  });

  it('NET-NO-TOKEN-IN-URL: across sign-in, public, private, federated, refresh and sign-out, tokens travel only in X-Esri-Authorization (or a POST body to a token endpoint)', async () => {
    // Exercise the remaining paths: a federated server (generateToken with the portal token in a
    // POST body), a refresh after expiry, the table, and sign-out (revokeToken).
    const fed = await server.call('arcgis_query', { url: sandbox.info.services.federated, limit: 2 });
    expect(fed.isError, textOf(fed)).toBeFalsy();
    sandbox.expireAccessTokens();
    const refreshed = await server.call('arcgis_query', { url: sandbox.info.services.table, limit: 2 });
    expect(refreshed.isError, textOf(refreshed)).toBeFalsy();
    expect(tokenGrants(sandbox.requests)).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token']),
    );
    const out = await server.call('arcgis_logout');
    expect(out.isError, textOf(out)).toBeFalsy();

    const log = sandbox.requests.filter((r) => !isBrowser(r));
    expectNoSecretInAnyUrl(log);
    const withToken = log.filter((r) => r.tokenIn !== 'none');
    expect(withToken.length).toBeGreaterThan(0);
    for (const r of withToken) {
      const where = `${r.method} ${r.origin}${r.path}`;
      expect(r.tokenIn, where).not.toBe('authorization');
      if (r.tokenIn === 'body') {
        // Only the federated exchange: the portal token in the form body of a POST to generateToken (§11).
        expect(r.method, where).toBe('POST');
        expect(r.path, where).toMatch(/\/generatetoken$/i);
      } else {
        expect(r.tokenIn, where).toBe('x-esri-authorization');
      }
    }
    // Every service request (hosting and federated servers) that carried a token used the header.
    const serviceCalls = withToken.filter((r) => /\/rest\/services\//i.test(r.path));
    expect(serviceCalls.length).toBeGreaterThan(0);
    expect(serviceCalls.every((r) => r.tokenIn === 'x-esri-authorization')).toBe(true);
  });

  it('AUTH-TOKEN-ENDPOINT: token, revoke and generateToken calls are POSTs with nothing secret in the URL', () => {
    const calls = sandbox.requests.filter(isCredentialEndpoint);
    const seen = new Set(calls.map((r) => r.path.replace(/^.*\//, '').toLowerCase()));
    expect([...seen].sort()).toEqual(['generatetoken', 'revoketoken', 'token']);
    expectCredentialCallsArePosts(calls);
    // The secrets are in the bodies, where they belong.
    const grants = calls.filter((r) => /\/token$/i.test(r.path));
    expect(grants.some((r) => r.bodyKeys.includes('code') && r.bodyKeys.includes('code_verifier'))).toBe(
      true,
    );
    expect(grants.some((r) => r.bodyKeys.includes('refresh_token'))).toBe(true);
    const revoke = calls.filter((r) => /\/revoketoken$/i.test(r.path));
    expect(revoke.every((r) => r.bodyKeys.includes('auth_token'))).toBe(true);
  });

  describe('the other credential calls', () => {
    it('AUTH-TOKEN-ENDPOINT: exchange_refresh_token (refresh tokens under 24 h) is a POST with the token in the body', async () => {
      const short = await startSandbox({ refreshTtlSeconds: 3600 });
      const dir = tempConfigDir();
      const s = await spawnServer(serverEnv(short, dir));
      try {
        await signInOob(s, alice(short));
        short.expireAccessTokens();
        const q = await s.call('arcgis_query', { url: short.info.services.private, returnCountOnly: true });
        expect(q.isError, textOf(q)).toBeFalsy();
        expect(tokenGrants(short.requests)).toContain('exchange_refresh_token');
        expectCredentialCallsArePosts(short.requests);
        expectNoSecretInAnyUrl(short.requests);
      } finally {
        await s.close();
        await deleteStored(dir, accountOf(short));
        await short.close();
        removeDir(dir);
      }
    });

    it('AUTH-TOKEN-ENDPOINT: a username and password from the environment go to generateToken in a POST body only', async () => {
      const dir = tempConfigDir();
      const m = mark(sandbox);
      const s = await spawnServer(
        serverEnv(sandbox, dir, {
          ARCGIS_TOKEN_STORE: 'memory',
          ARCGIS_USERNAME: alice(sandbox).username,
          ARCGIS_PASSWORD: alice(sandbox).password,
        }),
      );
      try {
        const q = await s.call('arcgis_query', { url: sandbox.info.services.private, returnCountOnly: true });
        expect(q.isError, textOf(q)).toBeFalsy();
        expect((q.structuredContent as QueryOut).accessedAs).toBe(alice(sandbox).username);
        const log = since(sandbox, m);
        const gen = log.filter((r) => /\/generatetoken$/i.test(r.path));
        expect(gen.length).toBeGreaterThan(0);
        expect(gen.some((r) => r.bodyKeys.includes('password'))).toBe(true);
        expectCredentialCallsArePosts(log);
        expectNoSecretInAnyUrl(log);
        // The generated (referer-bound) token then travels in the header, like any other.
        const signed = log.filter((r) => r.tokenIn !== 'none' && !/\/generatetoken$/i.test(r.path));
        expect(signed.length).toBeGreaterThan(0);
        expect(signed.every((r) => r.tokenIn === 'x-esri-authorization' && r.tokenKind === 'user')).toBe(
          true,
        );
      } finally {
        await s.close();
        removeDir(dir);
      }
    });
  });
});
