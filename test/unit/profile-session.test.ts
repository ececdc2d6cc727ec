import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArcGisHttpClient } from '../../src/arcgis/http-client.js';
import { OOB_REDIRECT_URI } from '../../src/arcgis/oauth.js';
import type { Credential } from '../../src/auth/credential.js';
import { HostPolicy } from '../../src/auth/host-policy.js';
import { PendingSignIns } from '../../src/auth/pending-sign-ins.js';
import { ProfileSession } from '../../src/auth/profile-session.js';
import type { SecretStore } from '../../src/auth/store/secret-store.js';
import type { ProfileConfig } from '../../src/config.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { FakePortal, type FakePortalOptions } from './support/fake-portal.js';

/**
 * ProfileSession against a fake portal on loopback and an in-memory secret store. Lifetimes are
 * set on the portal (expires_in / refresh_token_expires_in), so no test waits for time to pass.
 */

/** The SecretStore port in ten lines, with switches to make it fail or slow. */
class TestStore implements SecretStore {
  readonly kind = 'memory' as const;
  readonly entries = new Map<string, string>();
  failSet = false;
  failGet = false;
  setDelayMs = 0;
  describe = () => 'test store';
  get = async (a: string) => {
    if (this.failGet) throw new ArcGisMcpError('KEYCHAIN_UNAVAILABLE', 'locked');
    return this.entries.get(a) ?? null;
  };
  set = async (a: string, v: string) => {
    if (this.setDelayMs) await new Promise((r) => setTimeout(r, this.setDelayMs));
    if (this.failSet) throw new Error('keychain locked');
    this.entries.set(a, v);
  };
  delete = async (a: string) => this.entries.delete(a);
}

const agent = new Agent({ keepAliveTimeout: 10 });
const http = new ArcGisHttpClient({ dispatcher: agent, timeoutMs: 5_000, sleep: async () => undefined });
let lockDir: string;
const portals: FakePortal[] = [];

beforeAll(() => {
  lockDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-locks-'));
});
afterEach(async () => {
  await Promise.all(portals.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await agent.close();
  rmSync(lockDir, { recursive: true, force: true });
});

interface Setup {
  portal: FakePortal;
  store: TestStore;
  profile: ProfileConfig;
  logLines: string[];
  session: (now?: () => number) => ProfileSession;
}

async function setup(options: FakePortalOptions = {}): Promise<Setup> {
  const portal = await FakePortal.start(options);
  portals.push(portal);
  const store = new TestStore();
  const profile: ProfileConfig = {
    name: 'default',
    portalUrl: portal.portalUrl,
    restUrl: portal.restUrl,
    clientId: 'cid',
    clientSecret: undefined,
    redirectUri: OOB_REDIRECT_URI,
    expirationMinutes: 20_160,
    trustedHosts: [],
  };
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
  const policy = HostPolicy.forPortal(portal.portalUrl);
  return {
    portal,
    store,
    profile,
    logLines,
    session: (now) =>
      new ProfileSession({ profile, http, store, policy, log, lockDir, ...(now ? { now } : {}) }),
  };
}

async function signIn(session: ProfileSession, portal: FakePortal) {
  const pending = new PendingSignIns();
  const p = pending.start({
    profile: 'default',
    portalUrl: portal.portalUrl.href,
    clientId: 'cid',
    redirectUri: OOB_REDIRECT_URI,
  });
  const code = portal.issueCode(p.codeChallenge, OOB_REDIRECT_URI);
  return session.completeOAuth(pending.takeLatest('default', OOB_REDIRECT_URI), code);
}

function stored(
  store: TestStore,
  session: ProfileSession,
): { refreshToken: string; refreshExpiresAt: number } | null {
  const raw = store.entries.get(session.account);
  return raw ? (JSON.parse(raw) as { refreshToken: string; refreshExpiresAt: number }) : null;
}

/** A stored session as a previous run leaves it. */
function seed(s: Setup, session: ProfileSession, refreshToken: string, refreshExpiresAt: number): void {
  s.store.entries.set(
    session.account,
    JSON.stringify({
      v: 1,
      portalUrl: s.profile.portalUrl.href,
      clientId: 'cid',
      username: 'alice',
      refreshToken,
      refreshExpiresAt,
      savedAt: Date.now(),
    }),
  );
}

async function failure(p: Promise<unknown>): Promise<ArcGisMcpError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ArcGisMcpError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

const HOUR = 3600;

describe('sign-in (completeOAuth)', () => {
  it('STORE-KEYCHAIN-FIRST: signs in, verifies the user and keeps only the refresh token in the store', async () => {
    const s = await setup();
    const session = s.session();
    const identity = await signIn(session, s.portal);
    expect(identity).toMatchObject({ username: 'alice', orgId: 'org1', orgName: 'Example Org' });
    const saved = stored(s.store, session);
    expect(saved?.refreshToken).toBe([...s.portal.refreshTokens.keys()][0]);
    const credential = await session.userCredential();
    expect(s.store.entries.get(session.account)).not.toContain(credential?.accessToken);
    expect(session.status()).toMatchObject({
      signedIn: true,
      credentialKind: 'user',
      refreshTokenStoredIn: 'test store',
    });
  });

  it('AUTH-TOKEN-ENDPOINT: the code and verifier go in the POST body only', async () => {
    const s = await setup();
    await signIn(s.session(), s.portal);
    const tokenReq = s.portal.requests.find((r) => r.form.get('grant_type') === 'authorization_code');
    expect(tokenReq?.method).toBe('POST');
    expect(tokenReq?.url).toBe('/portal/sharing/rest/oauth2/token');
    expect(tokenReq?.form.get('code_verifier')).toBeTruthy();
  });

  it('a rejected code is OAUTH_CODE_REJECTED and nothing is stored', async () => {
    const s = await setup();
    const session = s.session();
    const pending = new PendingSignIns();
    pending.start({
      profile: 'default',
      portalUrl: s.portal.portalUrl.href,
      clientId: 'cid',
      redirectUri: OOB_REDIRECT_URI,
    });
    const e = await failure(
      session.completeOAuth(pending.takeLatest('default', OOB_REDIRECT_URI), 'not-a-real-code'),
    );
    expect(e.code).toBe('OAUTH_CODE_REJECTED');
    expect(e.nextStep).toContain('arcgis_auth_url');
    expect(s.store.entries.size).toBe(0);
    expect(session.status().signedIn).toBe(false);
  });

  it('STORE-ROTATION-SAFE: a store that cannot save the refresh token at sign-in is KEYCHAIN_UNAVAILABLE, not silent', async () => {
    const s = await setup();
    s.store.failSet = true;
    const e = await failure(signIn(s.session(), s.portal));
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(e.nextStep).toMatch(/keychain/i);
  });

  // Regression: the oauth calls used to compute expiry with the real clock, not the injected one.
  it('REL-PROACTIVE: expiry instants use the injected clock', async () => {
    const s = await setup();
    const T0 = 1_000_000_000_000;
    const session = s.session(() => T0);
    await signIn(session, s.portal);
    expect(session.status().accessExpiresAt).toBe(T0 + 1800 * 1000);
  });
});

describe('refresh before expiry (REL-PROACTIVE)', () => {
  it('REL-PROACTIVE: an access token with 10 minutes left is used as is', async () => {
    const s = await setup({ accessLifetimeSec: 10 * 60 });
    const session = s.session();
    await signIn(session, s.portal);
    const first = await session.userCredential();
    const second = await session.userCredential();
    expect(second?.accessToken).toBe(first?.accessToken);
    expect(s.portal.grants).toEqual(['authorization_code']);
  });

  it('REL-PROACTIVE: an access token with less than 5 minutes left is refreshed first', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60 });
    const session = s.session();
    await signIn(session, s.portal);
    const signInToken = [...s.portal.accessTokens.keys()][0];
    const credential = await session.userCredential();
    expect(s.portal.grants).toEqual(['authorization_code', 'refresh_token']);
    expect(credential?.accessToken).not.toBe(signInToken);
    expect(s.portal.accessTokens.has(credential?.accessToken ?? '')).toBe(true);
    expect(credential).toMatchObject({ kind: 'user', username: 'alice' });
  });

  it('REL-PROACTIVE: a refresh token with less than 24 h left is exchanged (exchange_refresh_token)', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, refreshLifetimeSec: 23 * HOUR });
    const session = s.session();
    await signIn(session, s.portal);
    const oldRefresh = stored(s.store, session)?.refreshToken ?? '';
    const credential = await session.userCredential();
    expect(s.portal.grants).toEqual(['authorization_code', 'exchange_refresh_token']);
    const exchange = s.portal.requests.find((r) => r.form.get('grant_type') === 'exchange_refresh_token');
    expect(exchange?.form.get('refresh_token')).toBe(oldRefresh);
    expect(exchange?.form.get('redirect_uri')).toBe(OOB_REDIRECT_URI);
    const newRefresh = stored(s.store, session)?.refreshToken;
    expect(newRefresh).not.toBe(oldRefresh);
    expect(s.portal.refreshTokens.has(newRefresh ?? '')).toBe(true);
    expect(s.portal.accessTokens.has(credential?.accessToken ?? '')).toBe(true);
  });

  it('REL-PROACTIVE: a refresh token with more than 24 h left is not rotated', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, refreshLifetimeSec: 25 * HOUR });
    const session = s.session();
    await signIn(session, s.portal);
    await session.userCredential();
    expect(s.portal.grants).toEqual(['authorization_code', 'refresh_token']);
  });
});

describe('refresh before expiry, on an injected clock (REL-PROACTIVE)', () => {
  const MIN = 60 * 1000;

  async function signedInAt() {
    const s = await setup();
    const clock = { t: Date.now() };
    const session = s.session(() => clock.t);
    await signIn(session, s.portal);
    return { ...s, clock, session, first: (await session.userCredential()) as Credential };
  }

  it('REL-PROACTIVE: 20 minutes after sign-in (10 minutes left) the access token is used as is', async () => {
    const { clock, session, portal, first } = await signedInAt();
    clock.t += 20 * MIN;
    expect((await session.userCredential())?.accessToken).toBe(first.accessToken);
    expect(portal.grants).toEqual(['authorization_code']);
  });

  it('REL-PROACTIVE: 26 minutes after sign-in (4 minutes left) it is refreshed first', async () => {
    const { clock, session, portal, first } = await signedInAt();
    clock.t += 26 * MIN;
    const next = await session.userCredential();
    expect(next?.accessToken).not.toBe(first.accessToken);
    expect(portal.grants).toEqual(['authorization_code', 'refresh_token']);
    expect(next?.accessExpiresAt).toBe(clock.t + 1800 * 1000);
  });

  it('REL-PROACTIVE: 13½ days into a two-week refresh token, the next refresh rotates it', async () => {
    const { clock, session, portal, store } = await signedInAt();
    const before = stored(store, session)?.refreshToken;
    clock.t += 13.5 * 24 * 60 * MIN;
    await session.userCredential();
    expect(portal.grants).toEqual(['authorization_code', 'exchange_refresh_token']);
    expect(stored(store, session)?.refreshToken).not.toBe(before);
  });
});

describe('one refresh at a time (REL-SINGLE-FLIGHT)', () => {
  it('REL-SINGLE-FLIGHT: three concurrent userCredential() calls make exactly one token request', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, tokenDelayMs: 100 });
    const session = s.session();
    await signIn(session, s.portal);
    const before = s.portal.grants.length;
    const results = await Promise.all([
      session.userCredential(),
      session.userCredential(),
      session.userCredential(),
    ]);
    expect(s.portal.grants.length - before).toBe(1);
    expect(new Set(results.map((c) => c?.accessToken)).size).toBe(1);
  });

  it('REL-SINGLE-FLIGHT: three concurrent rotations make exactly one exchange', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, refreshLifetimeSec: 23 * HOUR, tokenDelayMs: 50 });
    const session = s.session();
    await signIn(session, s.portal);
    await Promise.all([session.userCredential(), session.userCredential(), session.userCredential()]);
    expect(s.portal.grants.filter((g) => g === 'exchange_refresh_token')).toHaveLength(1);
  });

  it('REL-SINGLE-FLIGHT: two processes sharing one store entry do not both rotate it', async () => {
    // The stored token has 23 h left; the exchange gives a fresh two-week one (arcgis-protocol.md §3).
    const s = await setup({ accessLifetimeSec: 4 * 60, tokenDelayMs: 50 });
    const a = s.session();
    const b = s.session();
    seed(s, a, s.portal.mintRefreshToken(23 * HOUR), Date.now() + 23 * HOUR * 1000);
    expect(await a.restore()).toBe(true);
    expect(await b.restore()).toBe(true);
    const [ca, cb] = await Promise.all([a.userCredential(), b.userCredential()]);
    expect(s.portal.grants.filter((g) => g === 'exchange_refresh_token')).toHaveLength(1);
    // Both processes end up with working access tokens, and the store holds the live refresh token.
    expect(s.portal.accessTokens.has(ca?.accessToken ?? '')).toBe(true);
    expect(s.portal.accessTokens.has(cb?.accessToken ?? '')).toBe(true);
    expect(s.portal.refreshTokens.has(stored(s.store, a)?.refreshToken ?? '')).toBe(true);
  });
});

describe('rotation and the store (STORE-ROTATION-SAFE)', () => {
  it('STORE-ROTATION-SAFE: the rotated refresh token is in the store when the call resolves', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, refreshLifetimeSec: 23 * HOUR });
    const session = s.session();
    await signIn(session, s.portal);
    s.store.setDelayMs = 100;
    await session.userCredential();
    const live = [...s.portal.refreshTokens.keys()];
    expect(live).toHaveLength(1);
    expect(stored(s.store, session)?.refreshToken).toBe(live[0]);
  });

  it('STORE-ROTATION-SAFE: a store that cannot save the rotated token makes the call fail with KEYCHAIN_UNAVAILABLE', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, refreshLifetimeSec: 23 * HOUR });
    const session = s.session();
    await signIn(session, s.portal);
    s.store.failSet = true;
    const e = await failure(session.userCredential());
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(e.nextStep).toBeTruthy();
    expect(session.status().problem).toBeTruthy();
  });
});

describe('after a rejection (REL-REACTIVE)', () => {
  it('REL-REACTIVE: afterRejection refreshes once and returns a working token', async () => {
    const s = await setup();
    const session = s.session();
    await signIn(session, s.portal);
    const rejected = (await session.userCredential()) as Credential;
    s.portal.killAccessTokens();
    const next = await session.afterRejection(rejected);
    expect(next?.accessToken).not.toBe(rejected.accessToken);
    expect(s.portal.accessTokens.has(next?.accessToken ?? '')).toBe(true);
    expect(s.portal.grants).toEqual(['authorization_code', 'refresh_token']);
  });

  it('REL-REACTIVE: a second rejection of the same old token does not refresh again', async () => {
    const s = await setup();
    const session = s.session();
    await signIn(session, s.portal);
    const rejected = (await session.userCredential()) as Credential;
    const first = await session.afterRejection(rejected);
    const second = await session.afterRejection(rejected);
    expect(second?.accessToken).toBe(first?.accessToken);
    expect(s.portal.grants.filter((g) => g === 'refresh_token')).toHaveLength(1);
  });

  it('REL-REACTIVE: concurrent rejections share one refresh', async () => {
    const s = await setup({ tokenDelayMs: 50 });
    const session = s.session();
    await signIn(session, s.portal);
    const rejected = (await session.userCredential()) as Credential;
    await Promise.all([
      session.afterRejection(rejected),
      session.afterRejection(rejected),
      session.afterRejection(rejected),
    ]);
    expect(s.portal.grants.filter((g) => g === 'refresh_token')).toHaveLength(1);
  });

  it('REL-REACTIVE: without a session there is nothing to refresh (null)', async () => {
    const s = await setup();
    const session = s.session();
    const fake = { kind: 'user', accessToken: 'x', username: 'a' } as unknown as Credential;
    expect(await session.afterRejection(fake)).toBeNull();
    expect(s.portal.grants).toEqual([]);
  });
});

describe('a dead refresh token', () => {
  it('REL-REACTIVE: a revoked refresh token gives one ARCGIS_SESSION_EXPIRED, deletes the entry, and does not loop', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60 });
    const session = s.session();
    await signIn(session, s.portal);
    s.portal.killRefreshToken(stored(s.store, session)?.refreshToken ?? '');
    const e = await failure(session.userCredential());
    expect(e.code).toBe('ARCGIS_SESSION_EXPIRED');
    expect(e.nextStep).toContain('arcgis_auth_url');
    expect(s.store.entries.has(session.account)).toBe(false);
    const grantsAfterFailure = s.portal.grants.length;
    expect(await session.userCredential()).toBeNull();
    expect(s.portal.grants.length).toBe(grantsAfterFailure);
    expect(s.portal.grants.filter((g) => g === 'refresh_token')).toHaveLength(1);
    expect(session.status()).toMatchObject({ signedIn: false });
    expect(session.status().problem).toMatch(/sign in again/i);
  });

  it('REL-PROACTIVE: a stored refresh token already past its expiry ends the session without a token request', async () => {
    const s = await setup();
    const session = s.session();
    seed(s, session, s.portal.mintRefreshToken(), Date.now() - 1000);
    expect(await session.restore()).toBe(true);
    const e = await failure(session.userCredential());
    expect(e.code).toBe('ARCGIS_SESSION_EXPIRED');
    expect(s.portal.grants).toEqual([]);
    expect(s.store.entries.has(session.account)).toBe(false);
  });

  it('a token endpoint that is down is a retryable error, not the end of the session', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60 });
    const session = s.session();
    await signIn(session, s.portal);
    await s.portal.close();
    const e = await failure(session.userCredential());
    expect(e.retryable).toBe(true);
    expect(s.store.entries.has(session.account)).toBe(true);
  });
});

describe('restore and logout', () => {
  it('restores a session from the store and refreshes with the stored refresh token', async () => {
    const s = await setup();
    const session = s.session();
    const rt = s.portal.mintRefreshToken();
    seed(s, session, rt, Date.now() + 14 * 24 * HOUR * 1000);
    expect(await session.restore()).toBe(true);
    expect(session.hasUserSession).toBe(true);
    const credential = await session.userCredential();
    expect(credential).toMatchObject({ kind: 'user', username: 'alice' });
    expect(
      s.portal.requests.find((r) => r.form.get('grant_type') === 'refresh_token')?.form.get('refresh_token'),
    ).toBe(rt);
  });

  it('ignores a stored entry for another portal or an unreadable one', async () => {
    const s = await setup();
    const session = s.session();
    s.store.entries.set(
      session.account,
      JSON.stringify({
        v: 1,
        portalUrl: 'https://other.example.org/portal',
        clientId: 'cid',
        username: 'alice',
        refreshToken: 'r',
        refreshExpiresAt: Date.now() + 1e9,
      }),
    );
    expect(await session.restore()).toBe(false);
    s.store.entries.set(session.account, '{not json');
    expect(await session.restore()).toBe(false);
    expect(await session.userCredential()).toBeNull();
  });

  it('a store that cannot be read does not crash the start and reports the problem', async () => {
    const s = await setup();
    const session = s.session();
    s.store.failGet = true;
    expect(await session.restore()).toBe(false);
    expect(session.status().problem).toBeTruthy();
  });

  it('logout revokes the refresh token at the portal and deletes every stored copy', async () => {
    const s = await setup();
    const session = s.session();
    await signIn(session, s.portal);
    const rt = stored(s.store, session)?.refreshToken;
    expect(await session.logout()).toEqual({ revoked: true, deleted: true });
    expect(s.portal.revoked).toEqual([rt]);
    const revoke = s.portal.requests.find((r) => r.path.endsWith('/oauth2/revokeToken'));
    expect(revoke?.method).toBe('POST');
    expect(revoke?.url).not.toContain(rt ?? '');
    expect(s.store.entries.size).toBe(0);
    expect(await session.userCredential()).toBeNull();
    expect(session.status().signedIn).toBe(false);
  });

  it('logout still deletes the stored copy when the portal cannot be reached', async () => {
    const s = await setup();
    const session = s.session();
    await signIn(session, s.portal);
    await s.portal.close();
    const result = await session.logout();
    expect(result.revoked).toBe(false);
    expect(s.store.entries.size).toBe(0);
  });
});

describe('secrets in logs', () => {
  it('SEC-REDACT: no log line of a full session lifecycle contains a token', async () => {
    const s = await setup({ accessLifetimeSec: 4 * 60, refreshLifetimeSec: 23 * HOUR });
    const session = s.session();
    await signIn(session, s.portal);
    await session.userCredential();
    s.portal.killRefreshToken(stored(s.store, session)?.refreshToken ?? '');
    await session.userCredential().catch(() => undefined);
    await session.logout();
    expect(s.logLines.length).toBeGreaterThan(0);
    const all = s.logLines.join('\n');
    for (const token of s.portal.everIssued) expect(all).not.toContain(token);
  });
});
