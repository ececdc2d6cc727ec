import { Agent } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArcGisHttpClient } from '../../src/arcgis/http-client.js';
import {
  exchangeRefreshToken,
  generateServerToken,
  generateUserToken,
  redeemAuthorizationCode,
  refreshAccessToken,
  requestAppToken,
  revokeToken,
} from '../../src/arcgis/oauth.js';
import { ArcGisMcpError } from '../../src/errors.js';
import {
  sendJson,
  startServer,
  type LoopbackServer,
  type RecordedRequest,
} from './support/loopback-server.js';

/**
 * AUTH-TOKEN-ENDPOINT: token, revoke and generateToken calls are POST with a form body; no code,
 * verifier, password or token in any URL. Checked on the wire against a fake portal.
 */

const NOW = 1_750_000_000_000;
const agent = new Agent({ keepAliveTimeout: 10 });
const http = new ArcGisHttpClient({ dispatcher: agent, timeoutMs: 2_000, sleep: async () => undefined });
let portal: LoopbackServer;
let answer: unknown;

beforeEach(async () => {
  answer = {};
  portal = await startServer((_req, res) => sendJson(res, answer));
});
afterEach(async () => {
  await portal.close();
});
afterAll(async () => {
  await agent.close();
});

const rest = () => portal.url('/sharing/rest');

function expectFormPost(req: RecordedRequest | undefined, path: string, secrets: string[]): void {
  expect(req?.method).toBe('POST');
  expect(req?.path).toBe(path);
  expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  for (const secret of secrets) {
    expect(req?.url).not.toContain(secret);
    expect(req?.url).not.toContain(encodeURIComponent(secret));
  }
  expect(req?.headers['x-esri-authorization']).toBeUndefined();
}

describe('token endpoint calls (AUTH-TOKEN-ENDPOINT)', () => {
  it('AUTH-TOKEN-ENDPOINT: authorization_code is a form POST with code and verifier in the body only', async () => {
    answer = {
      access_token: 'at-1',
      expires_in: 1800,
      username: 'alice',
      refresh_token: 'rt-1',
      refresh_token_expires_in: 1209599,
      ssl: true,
    };
    const grant = await redeemAuthorizationCode(
      http,
      {
        restUrl: rest(),
        clientId: 'cid',
        code: 'CODE-secret-1',
        redirectUri: 'urn:ietf:wg:oauth:2.0:oob',
        codeVerifier: 'VERIFIER-secret-1',
      },
      NOW,
    );
    const [req] = portal.requests;
    expectFormPost(req, '/sharing/rest/oauth2/token', ['CODE-secret-1', 'VERIFIER-secret-1']);
    expect(Object.fromEntries(req?.form ?? [])).toMatchObject({
      grant_type: 'authorization_code',
      client_id: 'cid',
      code: 'CODE-secret-1',
      code_verifier: 'VERIFIER-secret-1',
      redirect_uri: 'urn:ietf:wg:oauth:2.0:oob',
      f: 'json',
    });
    expect(req?.form.has('client_secret')).toBe(false);
    // expires_in and refresh_token_expires_in are seconds (arcgis-protocol.md §1).
    expect(grant).toEqual({
      accessToken: 'at-1',
      accessExpiresAt: NOW + 1800 * 1000,
      username: 'alice',
      refreshToken: 'rt-1',
      refreshExpiresAt: NOW + 1209599 * 1000,
    });
  });

  it('AUTH-TOKEN-ENDPOINT: refresh_token is a form POST with the refresh token in the body only', async () => {
    answer = { access_token: 'at-2', expires_in: 1800, username: 'alice', ssl: true };
    const grant = await refreshAccessToken(
      http,
      { restUrl: rest(), clientId: 'cid', refreshToken: 'RT-secret-2' },
      NOW,
    );
    const [req] = portal.requests;
    expectFormPost(req, '/sharing/rest/oauth2/token', ['RT-secret-2']);
    expect(req?.form.get('grant_type')).toBe('refresh_token');
    expect(req?.form.get('refresh_token')).toBe('RT-secret-2');
    expect(grant.refreshToken).toBeUndefined();
    expect(grant.accessExpiresAt).toBe(NOW + 1_800_000);
  });

  it('AUTH-TOKEN-ENDPOINT: exchange_refresh_token is a form POST with redirect_uri and the refresh token', async () => {
    answer = {
      access_token: 'at-3',
      expires_in: 1800,
      refresh_token: 'rt-new',
      refresh_token_expires_in: 1209599,
    };
    const grant = await exchangeRefreshToken(
      http,
      { restUrl: rest(), clientId: 'cid', refreshToken: 'RT-secret-3', redirectUri: 'http://127.0.0.1:1/cb' },
      NOW,
    );
    const [req] = portal.requests;
    expectFormPost(req, '/sharing/rest/oauth2/token', ['RT-secret-3']);
    expect(req?.form.get('grant_type')).toBe('exchange_refresh_token');
    expect(req?.form.get('redirect_uri')).toBe('http://127.0.0.1:1/cb');
    expect(grant.refreshToken).toBe('rt-new');
  });

  it('AUTH-TOKEN-ENDPOINT: client_credentials is a form POST with the secret in the body only', async () => {
    answer = { access_token: 'app-1', expires_in: 7200 };
    const grant = await requestAppToken(
      http,
      { restUrl: rest(), clientId: 'cid', clientSecret: 'CS-secret-4' },
      NOW,
    );
    const [req] = portal.requests;
    expectFormPost(req, '/sharing/rest/oauth2/token', ['CS-secret-4']);
    expect(req?.form.get('grant_type')).toBe('client_credentials');
    expect(req?.form.get('client_secret')).toBe('CS-secret-4');
    expect(grant.username).toBeUndefined();
    expect(grant.refreshToken).toBeUndefined();
  });

  it('AUTH-TOKEN-ENDPOINT: revokeToken is a form POST with the token as auth_token in the body', async () => {
    answer = { success: true };
    await revokeToken(http, {
      restUrl: rest(),
      clientId: 'cid',
      token: 'RT-secret-5',
      hint: 'refresh_token',
    });
    const [req] = portal.requests;
    expectFormPost(req, '/sharing/rest/oauth2/revokeToken', ['RT-secret-5']);
    expect(req?.form.get('auth_token')).toBe('RT-secret-5');
    expect(req?.form.get('token_type_hint')).toBe('refresh_token');
  });

  it('AUTH-TOKEN-ENDPOINT: generateToken with a password is a form POST bound to a referer', async () => {
    answer = { token: 'gt-1', expires: NOW + 3_600_000, ssl: true };
    const token = await generateUserToken(http, {
      tokenServicesUrl: portal.url('/sharing/rest/generateToken'),
      username: 'alice',
      password: 'PW-secret-6',
      referer: 'https://arcgis-mcp.local',
    });
    const [req] = portal.requests;
    expectFormPost(req, '/sharing/rest/generateToken', ['PW-secret-6']);
    expect(req?.form.get('client')).toBe('referer');
    expect(req?.form.get('referer')).toBe('https://arcgis-mcp.local');
    // generateToken's `expires` is already epoch ms (§4).
    expect(token).toEqual({ token: 'gt-1', expiresAt: NOW + 3_600_000 });
  });

  it('AUTH-TOKEN-ENDPOINT: a federated server token is requested with the portal token in the body', async () => {
    answer = { token: 'st-1', expires: NOW + 3_600_000 };
    await generateServerToken(http, {
      tokenServicesUrl: portal.url('/portal/sharing/rest/generateToken'),
      portalToken: 'PT-secret-7',
      serverUrl: 'https://gis.example.org/server',
    });
    const [req] = portal.requests;
    expectFormPost(req, '/portal/sharing/rest/generateToken', ['PT-secret-7']);
    expect(req?.form.get('token')).toBe('PT-secret-7');
    expect(req?.form.get('serverUrl')).toBe('https://gis.example.org/server');
  });

  it('REL-BACKOFF: a rotation (exchange_refresh_token) is never retried: the old token is dead after one try', async () => {
    await portal.close();
    let n = 0;
    portal = await startServer((_req, res) => {
      n++;
      sendJson(res, { error: { code: 503, message: 'busy' } });
    });
    await expect(
      exchangeRefreshToken(http, {
        restUrl: rest(),
        clientId: 'c',
        refreshToken: 'r-123456789',
        redirectUri: 'x',
      }),
    ).rejects.toBeInstanceOf(ArcGisMcpError);
    expect(n).toBe(1);
  });
});

describe('token responses', () => {
  it('a nested OAuth error (expired refresh token) becomes a typed error, not a grant', async () => {
    answer = {
      error: {
        code: 498,
        error: 'invalid_request',
        error_description: 'refresh_token expired',
        message: 'x',
        details: [],
      },
    };
    await expect(
      refreshAccessToken(http, { restUrl: rest(), clientId: 'cid', refreshToken: 'rt-123456789' }),
    ).rejects.toMatchObject({ code: 'ARCGIS_TOKEN_INVALID' });
  });

  it('REL-BAD-INPUT: an answer without access_token is ARCGIS_BAD_RESPONSE', async () => {
    answer = { ok: true };
    await expect(
      refreshAccessToken(http, { restUrl: rest(), clientId: 'cid', refreshToken: 'rt-123456789' }),
    ).rejects.toMatchObject({ code: 'ARCGIS_BAD_RESPONSE' });
  });

  it('REL-BAD-INPUT: a generateToken answer without expires is not a token (arcgis-protocol.md §11)', async () => {
    answer = { token: 'gt-1' };
    await expect(
      generateUserToken(http, {
        tokenServicesUrl: portal.url('/sharing/rest/generateToken'),
        username: 'a',
        password: 'p-123456789',
        referer: 'r',
      }),
    ).rejects.toMatchObject({ code: 'ARCGIS_BAD_RESPONSE' });
  });

  it('the error for a malformed token answer does not echo the answer (it may hold a token)', async () => {
    answer = { access_token: 'LEAKY-TOKEN-123456', expires_in: 'soon' };
    try {
      await refreshAccessToken(http, { restUrl: rest(), clientId: 'cid', refreshToken: 'rt-123456789' });
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('LEAKY-TOKEN-123456');
      expect(JSON.stringify(e)).not.toContain('LEAKY-TOKEN-123456');
    }
  });
});
