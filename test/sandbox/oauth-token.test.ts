import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { appToken, getJson, OOB, pkcePair, postJson, rest, signIn, signInForCode } from './helpers.js';
import type { Json } from './helpers.js';

describe('oauth2/token', () => {
  let sandbox: RunningSandbox;
  let now = Date.UTC(2025, 0, 1);
  let tokenUrl: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ clock: () => now });
    tokenUrl = rest(sandbox, '/oauth2/token');
  });
  beforeEach(() => {
    now = Date.UTC(2025, 0, 1);
  });
  afterAll(() => sandbox.close());

  const redeem = (code: string, extra: Record<string, string> = {}): Promise<Json> =>
    postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'authorization_code',
      code,
      redirect_uri: OOB,
      ...extra,
    });

  const me = (token: string): Promise<Json> => getJson(rest(sandbox, '/community/self'), { token });

  it('authorization_code + PKCE S256 returns exactly the §3 body, no client_secret needed', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await signInForCode(sandbox, { challenge });
    const body = await redeem(code, { code_verifier: verifier });
    expect(Object.keys(body)).toEqual([
      'access_token',
      'expires_in',
      'username',
      'ssl',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(body).toMatchObject({
      expires_in: 1800,
      username: 'alice',
      ssl: true,
      refresh_token_expires_in: 1209599,
    });
    expect((await me(String(body.access_token))).username).toBe('alice');
  });

  it('accepts the RFC 7636 appendix B vector and refuses a wrong verifier', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    const good = await redeem(await signInForCode(sandbox, { challenge }), { code_verifier: verifier });
    expect(good.access_token).toBeTypeOf('string');

    const bad = await redeem(await signInForCode(sandbox, { challenge }), {
      code_verifier: `${verifier.slice(0, -1)}l`,
    });
    expect(bad.error).toMatchObject({ code: 400, error: 'invalid_grant' });
    expect(bad.access_token).toBeUndefined();
  });

  it('refuses a PKCE code redeemed without a verifier', async () => {
    const { challenge } = pkcePair();
    const body = await redeem(await signInForCode(sandbox, { challenge }));
    expect(body.error).toMatchObject({ code: 400, error: 'invalid_request' });
  });

  it('supports the plain method', async () => {
    const { verifier } = pkcePair();
    const body = await redeem(await signInForCode(sandbox, { challenge: verifier, method: 'plain' }), {
      code_verifier: verifier,
    });
    expect(body.access_token).toBeTypeOf('string');
  });

  it('keeps PKCE optional (§11: Esri server-side flow sends none)', async () => {
    const body = await redeem(await signInForCode(sandbox));
    expect(body.username).toBe('alice');
  });

  it('refuses a verifier for a code issued without a challenge (PKCE downgrade)', async () => {
    const body = await redeem(await signInForCode(sandbox), { code_verifier: pkcePair().verifier });
    expect(body.error).toMatchObject({ error: 'invalid_grant' });
  });

  it('uses a code once; a replay is refused and revokes what the code produced', async () => {
    const code = await signInForCode(sandbox);
    const first = await redeem(code);
    expect(first.access_token).toBeTypeOf('string');
    const second = await redeem(code);
    expect(second.error).toMatchObject({ code: 400, error: 'invalid_grant' });
    expect((await me(String(first.access_token))).error).toMatchObject({ code: 498 });
  });

  it('expires codes after ten minutes (fake clock)', async () => {
    const fresh = await signInForCode(sandbox);
    now += 9 * 60 * 1000;
    expect((await redeem(fresh)).access_token).toBeTypeOf('string');
    const stale = await signInForCode(sandbox);
    now += 10 * 60 * 1000 + 1;
    expect((await redeem(stale)).error).toMatchObject({ error: 'invalid_grant' });
  });

  it('binds the code to its redirect_uri and client', async () => {
    const redirect = 'http://127.0.0.1:40000/callback';
    const code = await signInForCode(sandbox, { redirectUri: redirect });
    const otherPort = await redeem(code, { redirect_uri: 'http://127.0.0.1:40001/callback' });
    expect(otherPort.error).toMatchObject({ error: 'invalid_grant' });

    const code2 = await signInForCode(sandbox, { redirectUri: redirect });
    const wrongClient = await postJson(tokenUrl, {
      client_id: 'other',
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: redirect,
    });
    expect(wrongClient.error).toEqual({
      code: 400,
      error: 'invalid_client_id',
      error_description: 'Invalid client_id',
      message: 'Invalid client_id',
      details: [],
    });
    expect((await redeem(code2, { redirect_uri: redirect })).access_token).toBeTypeOf('string');
  });

  it('sets the refresh token lifetime from `expiration` minutes', async () => {
    const body = await redeem(await signInForCode(sandbox, { expiration: '120' }));
    expect(body.refresh_token_expires_in).toBe(7199);
  });

  it('refresh_token returns a new access token and no new refresh token', async () => {
    const first = await signIn(sandbox);
    const body = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(Object.keys(body)).toEqual(['access_token', 'expires_in', 'username', 'ssl']);
    expect(body.access_token).not.toBe(first.access_token);
    expect((await me(body.access_token)).username).toBe('alice');
  });

  it('access tokens expire after tokenTtl; the refresh token still works', async () => {
    const first = await signIn(sandbox);
    now += 1800 * 1000;
    expect((await me(first.access_token)).error).toEqual({
      code: 498,
      message: 'Invalid token.',
      details: [],
    });
    const body = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect((await me(body.access_token)).username).toBe('alice');
  });

  it('an expired refresh token answers "refresh_token expired" (498); an unknown one "Invalid refresh_token"', async () => {
    const first = await signIn(sandbox);
    now += 1209600 * 1000;
    const expired = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(expired).toEqual({
      error: {
        code: 498,
        error: 'invalid_request',
        error_description: 'refresh_token expired',
        message: 'refresh_token expired',
        details: [],
      },
    });
    const unknown = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: 'nope',
    });
    expect(unknown.error).toMatchObject({ code: 498, error_description: 'Invalid refresh_token' });
  });

  it('exchange_refresh_token rotates: the old refresh token and its access tokens die', async () => {
    const first = await signIn(sandbox);
    const refreshed = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    now += 1000 * 1000;
    const body = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'exchange_refresh_token',
      refresh_token: first.refresh_token,
      redirect_uri: OOB,
    });
    expect(Object.keys(body)).toEqual([
      'access_token',
      'expires_in',
      'username',
      'ssl',
      'refresh_token',
      'refresh_token_expires_in',
    ]);
    expect(body.refresh_token).not.toBe(first.refresh_token);
    // The original lifetime, counted from now.
    expect(body.refresh_token_expires_in).toBe(1209599);
    expect((await me(body.access_token)).username).toBe('alice');
    expect((await me(first.access_token)).error.code).toBe(498);
    expect((await me(refreshed.access_token)).error.code).toBe(498);
    const reuse = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(reuse.error.error_description).toBe('Invalid refresh_token');
    // The new refresh token outlives the old one's original expiry.
    now += 1209000 * 1000;
    const later = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
    });
    expect(later.access_token).toBeTypeOf('string');
  });

  it('client_credentials returns an app token with no username and no refresh token', async () => {
    const body = await postJson(`${tokenUrl}/`, {
      client_id: sandbox.info.clientId,
      client_secret: sandbox.info.clientSecret,
      grant_type: 'client_credentials',
    });
    expect(body).toEqual({ access_token: expect.any(String), expires_in: 7200 });
    const wrong = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      client_secret: 'nope',
      grant_type: 'client_credentials',
    });
    expect(wrong.error.code).toBe(400);
    expect(wrong.access_token).toBeUndefined();
    // §11: Esri sends expiration=7200 minutes.
    const long = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      client_secret: sandbox.info.clientSecret,
      grant_type: 'client_credentials',
      expiration: '7200',
    });
    expect(long.expires_in).toBe(7200 * 60);
  });

  it('revokeToken: success even for unknown tokens; revoking a refresh token kills its access tokens', async () => {
    const revokeUrl = rest(sandbox, '/oauth2/revokeToken');
    expect(await postJson(revokeUrl, { client_id: sandbox.info.clientId, auth_token: 'unknown' })).toEqual({
      success: true,
    });
    const first = await signIn(sandbox);
    expect(
      await postJson(revokeUrl, {
        client_id: sandbox.info.clientId,
        auth_token: first.refresh_token,
        token_type_hint: 'refresh_token',
      }),
    ).toEqual({ success: true });
    expect((await me(first.access_token)).error.code).toBe(498);
    const refresh = await postJson(tokenUrl, {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(refresh.error.error_description).toBe('Invalid refresh_token');
  });

  it('revokeToken cannot revoke an app token (§3)', async () => {
    const token = await appToken(sandbox);
    await postJson(rest(sandbox, '/oauth2/revokeToken'), {
      client_id: sandbox.info.clientId,
      auth_token: token,
    });
    expect((await getJson(rest(sandbox, '/portals/self'), { token })).appInfo).toBeDefined();
  });

  it('answers an unknown grant type with the envelope', async () => {
    const body = await postJson(tokenUrl, { client_id: sandbox.info.clientId, grant_type: 'password' });
    expect(body.error).toMatchObject({ code: 400, error: 'unsupported_grant_type' });
  });

  it('serves the legacy /sharing/oauth2/token path', async () => {
    const code = await signInForCode(sandbox);
    const body = await postJson(`${sandbox.info.portalUrl}/sharing/oauth2/token`, {
      client_id: sandbox.info.clientId,
      grant_type: 'authorization_code',
      code,
      redirect_uri: OOB,
    });
    expect(body.username).toBe('alice');
  });
});

describe('configured lifetimes', () => {
  it('uses tokenTtlSeconds and refreshTtlSeconds (refresh overrides expiration)', async () => {
    const sandbox = await startSandbox({
      tokenTtlSeconds: 60,
      refreshTtlSeconds: 300,
      appTokenTtlSeconds: 30,
    });
    try {
      const code = await signInForCode(sandbox, { expiration: '20160' });
      const body = await postJson(rest(sandbox, '/oauth2/token'), {
        client_id: sandbox.info.clientId,
        grant_type: 'authorization_code',
        code,
        redirect_uri: OOB,
      });
      expect(body.expires_in).toBe(60);
      expect(body.refresh_token_expires_in).toBe(299);
      const app = await postJson(rest(sandbox, '/oauth2/token'), {
        client_id: sandbox.info.clientId,
        client_secret: sandbox.info.clientSecret,
        grant_type: 'client_credentials',
        expiration: '7200',
      });
      expect(app.expires_in).toBe(30);
    } finally {
      await sandbox.close();
    }
  });
});
