import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArcGisHttpClient } from '../../src/arcgis/http-client.js';
import { OOB_REDIRECT_URI } from '../../src/arcgis/oauth.js';
import { PendingSignIns } from '../../src/auth/pending-sign-ins.js';
import { ProfileRegistry, type ProfileContext } from '../../src/auth/profile-registry.js';
import { ServiceAccess } from '../../src/auth/service-access.js';
import { MemoryStore } from '../../src/auth/store/memory-store.js';
import type { ServerConfig } from '../../src/config.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { FakePortal } from './support/fake-portal.js';
import { sendJson, startServer, type LoopbackServer } from './support/loopback-server.js';

/**
 * The decision tree of product.md (public first, then the user's token, never an app token)
 * against a fake portal that also hosts feature services on the same loopback origin.
 */

const agent = new Agent({ keepAliveTimeout: 10 });
const http = new ArcGisHttpClient({ dispatcher: agent, timeoutMs: 5_000, sleep: async () => undefined });
let configDir: string;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(() => {
  configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-access-'));
});
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});
afterAll(async () => {
  await agent.close();
  rmSync(configDir, { recursive: true, force: true });
});

const ROWS = { features: [{ attributes: { OBJECTID: 1 } }] };
const PUBLIC = '/arcgis/rest/services/Public/FeatureServer/0/query';
const PRIVATE = '/arcgis/rest/services/Private/FeatureServer/0/query';
const FORBIDDEN = '/arcgis/rest/services/Forbidden/FeatureServer/0/query';
const REJECTS_ALL = '/arcgis/rest/services/RejectsAll/FeatureServer/0/query';

async function setup(options: { clientSecret?: string } = {}) {
  const portal = await FakePortal.start();
  cleanup.push(() => portal.close());
  portal.services.set(PUBLIC, (_req, res) => sendJson(res, ROWS));
  portal.services.set(PRIVATE, (_req, res, user) =>
    user
      ? sendJson(res, ROWS)
      : sendJson(res, { error: { code: 499, message: 'Token Required', messageCode: 'GWM_0003' } }),
  );
  portal.services.set(FORBIDDEN, (_req, res, user) =>
    user
      ? sendJson(res, {
          error: { code: 403, message: 'You do not have permissions to access this resource.' },
        })
      : sendJson(res, { error: { code: 499, message: 'Token Required' } }),
  );
  portal.services.set(REJECTS_ALL, (_req, res, user) =>
    sendJson(res, {
      error: user ? { code: 498, message: 'Invalid token.' } : { code: 499, message: 'Token Required' },
    }),
  );
  const config: ServerConfig = {
    profiles: [
      {
        name: 'default',
        portalUrl: portal.portalUrl,
        restUrl: portal.restUrl,
        clientId: 'cid',
        clientSecret: options.clientSecret,
        redirectUri: OOB_REDIRECT_URI,
        expirationMinutes: 20_160,
        trustedHosts: [],
      },
    ],
    defaultProfile: 'default',
    tokenStore: 'memory',
    configDir,
    requestTimeoutMs: 5_000,
    toolDeadlineMs: 10_000,
    envFile: undefined,
    extraCaPem: undefined,
    configFile: undefined,
    credentials: { username: undefined, password: undefined, token: undefined },
  };
  const profiles = new ProfileRegistry(config, {
    http,
    store: new MemoryStore(),
    log: createLogger({ write: () => undefined }),
  });
  const access = new ServiceAccess(http, profiles);
  const ctx = profiles.get();
  const request = (path: string) =>
    access.request({
      url: portal.server.url(path),
      params: { where: '1=1' },
      serviceKey: path.replace(/\/\d+\/query$/, ''),
    });
  return { portal, access, ctx, request };
}

async function signIn(ctx: ProfileContext, portal: FakePortal): Promise<void> {
  const pending = new PendingSignIns();
  const p = pending.start({
    profile: 'default',
    portalUrl: portal.portalUrl.href,
    clientId: 'cid',
    redirectUri: OOB_REDIRECT_URI,
  });
  await ctx.session.completeOAuth(
    pending.takeLatest('default', OOB_REDIRECT_URI),
    portal.issueCode(p.codeChallenge, OOB_REDIRECT_URI),
  );
}

const serviceRequests = (portal: FakePortal, path: string) => portal.requests.filter((r) => r.path === path);

async function failure(p: Promise<unknown>): Promise<ArcGisMcpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ArcGisMcpError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('public first (NET-PUBLIC-FIRST)', () => {
  it('NET-PUBLIC-FIRST: a public service gets no token even when a user is signed in', async () => {
    const { portal, ctx, request } = await setup();
    await signIn(ctx, portal);
    const result = await request(PUBLIC);
    expect(result).toEqual({ body: ROWS, as: null });
    const sent = serviceRequests(portal, PUBLIC);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers['x-esri-authorization']).toBeUndefined();
  });

  it('NET-PUBLIC-FIRST: a service that answered 499 once gets the token straight away the next time', async () => {
    const { portal, ctx, access, request } = await setup();
    await signIn(ctx, portal);
    const first = await request(PRIVATE);
    expect(first.as).toEqual({ profile: 'default', username: 'alice' });
    expect(
      serviceRequests(portal, PRIVATE).map((r) => r.headers['x-esri-authorization'] !== undefined),
    ).toEqual([false, true]);
    expect(access.rememberedNeedsToken('/arcgis/rest/services/Private/FeatureServer')).toBe(true);
    await request(PRIVATE);
    const all = serviceRequests(portal, PRIVATE);
    expect(all).toHaveLength(3);
    expect(all[2]?.headers['x-esri-authorization']).toMatch(/^Bearer at-/);
  });

  it('NET-PUBLIC-FIRST: a public service is remembered as public', async () => {
    const { access, request } = await setup();
    await request(PUBLIC);
    expect(access.rememberedNeedsToken('/arcgis/rest/services/Public/FeatureServer')).toBe(false);
  });

  it('NET-NO-TOKEN-IN-URL: the user token reaches the service in the header, never the URL', async () => {
    const { portal, ctx, request } = await setup();
    await signIn(ctx, portal);
    await request(PRIVATE);
    for (const r of serviceRequests(portal, PRIVATE)) {
      for (const t of portal.everIssued) expect(r.url).not.toContain(t);
      expect(r.query.has('token')).toBe(false);
    }
  });
});

describe('no usable user session', () => {
  it('a private service with nobody signed in is ARCGIS_SIGN_IN_REQUIRED naming arcgis_auth_url', async () => {
    const { portal, request } = await setup();
    const e = await failure(request(PRIVATE));
    expect(e.code).toBe('ARCGIS_SIGN_IN_REQUIRED');
    expect(e.nextStep).toContain('arcgis_auth_url');
    expect(portal.tokenBearing).toHaveLength(0);
  });

  it('NET-TWO-LEGGED: with only an app credential configured, the request is refused and no token is sent', async () => {
    const { portal, request } = await setup({ clientSecret: 'app-secret-0123456789' });
    const e = await failure(request(PRIVATE));
    expect(e.code).toBe('ARCGIS_APP_TOKEN_REFUSED');
    expect(e.nextStep).toContain('arcgis_auth_url');
    expect(portal.tokenBearing).toHaveLength(0);
    expect(portal.requests.every((r) => !r.body.includes('app-secret-0123456789'))).toBe(true);
  });

  it('NET-ALLOWLIST: a private service on a host no profile owns gets no token, even with a user signed in', async () => {
    const { portal, ctx, access } = await setup();
    await signIn(ctx, portal);
    const elsewhere: LoopbackServer = await startServer((_req, res) =>
      sendJson(res, { error: { code: 499, message: 'Token Required' } }),
    );
    cleanup.push(() => elsewhere.close());
    const e = await failure(
      access.request({
        url: elsewhere.url(PRIVATE),
        serviceKey: `${elsewhere.origin}/Private/FeatureServer`,
      }),
    );
    expect(e.code).toBe('ARCGIS_HOST_NOT_TRUSTED');
    expect(elsewhere.requests).toHaveLength(1);
    expect(elsewhere.requests[0]?.headers['x-esri-authorization']).toBeUndefined();
  });
});

describe('signed in', () => {
  it('a 403 as the signed-in user is ARCGIS_PERMISSION_DENIED naming the user, with what to do', async () => {
    const { portal, ctx, request } = await setup();
    await signIn(ctx, portal);
    const e = await failure(request(FORBIDDEN));
    expect(e.code).toBe('ARCGIS_PERMISSION_DENIED');
    expect(e.message).toContain('alice');
    expect(e.nextStep).toMatch(/shar/);
  });

  it('REL-REACTIVE: a 498 on the user token refreshes once and retries once', async () => {
    const { portal, ctx, request } = await setup();
    await signIn(ctx, portal);
    await request(PRIVATE);
    portal.killAccessTokens();
    const before = serviceRequests(portal, PRIVATE).length;
    const result = await request(PRIVATE);
    expect(result.body).toEqual(ROWS);
    expect(serviceRequests(portal, PRIVATE).length - before).toBe(2);
    expect(portal.grants.filter((g) => g === 'refresh_token')).toHaveLength(1);
  });

  it('REL-REACTIVE: a token still rejected after the refresh is ARCGIS_SESSION_EXPIRED, no loop', async () => {
    const { portal, ctx, request } = await setup();
    await signIn(ctx, portal);
    const e = await failure(request(REJECTS_ALL));
    expect(e.code).toBe('ARCGIS_SESSION_EXPIRED');
    expect(e.nextStep).toContain('arcgis_auth_url');
    // one anonymous probe, one with the token, one after the single refresh
    expect(serviceRequests(portal, REJECTS_ALL)).toHaveLength(3);
    expect(portal.grants.filter((g) => g === 'refresh_token')).toHaveLength(1);
  });

  it('REL-REACTIVE: a dead refresh token during the retry asks for a new sign-in', async () => {
    const { portal, ctx, request } = await setup();
    await signIn(ctx, portal);
    await request(PRIVATE);
    portal.killAccessTokens();
    for (const rt of [...portal.refreshTokens.keys()]) portal.killRefreshToken(rt);
    const e = await failure(request(PRIVATE));
    expect(['ARCGIS_SESSION_EXPIRED', 'ARCGIS_SIGN_IN_REQUIRED']).toContain(e.code);
    expect(e.nextStep).toContain('arcgis_auth_url');
  });
});
