import { z } from 'zod';
import { ArcGisMcpError } from '../errors.js';
import type { ArcGisHttpClient } from './http-client.js';

/**
 * ArcGIS OAuth 2.0 endpoints under `{portal}/sharing/rest/oauth2/` (arcgis-protocol.md §3), and
 * generateToken (§4). Request builders and response processors only: no state, no storage.
 * AUTH-TOKEN-ENDPOINT: every call that carries a code, verifier, password or token is a POST with a
 * form body.
 */

export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';

export interface AuthorizeUrlInput {
  restUrl: URL;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  /** Minutes; with the code flow it sets the refresh-token lifetime (default 20160 = two weeks, §3). */
  expirationMinutes?: number;
}

/** The authorize URL the user opens in a browser (§3 authorize; PKCE S256 only, AUTH-PKCE-S256). */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): URL {
  const url = new URL('oauth2/authorize', withSlash(input.restUrl));
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  url.searchParams.set('code_challenge', input.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('expiration', String(input.expirationMinutes ?? 20_160));
  return url;
}

const userTokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  username: z.string().min(1).optional(),
  refresh_token: z.string().min(1).optional(),
  refresh_token_expires_in: z.coerce.number().positive().optional(),
  ssl: z.boolean().optional(),
});
export type OAuthTokenResponse = z.infer<typeof userTokenResponse>;

/** Normalised token grant: absolute expiry instants in epoch ms. */
export interface TokenGrant {
  accessToken: string;
  accessExpiresAt: number;
  username: string | undefined;
  refreshToken: string | undefined;
  refreshExpiresAt: number | undefined;
}

function toGrant(body: unknown, now: number, what: string): TokenGrant {
  const parsed = userTokenResponse.safeParse(body);
  if (!parsed.success) {
    throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', `The portal's ${what} answer is not a token response.`);
  }
  const r = parsed.data;
  // expires_in and refresh_token_expires_in are seconds, unlike every other ArcGIS time (§1).
  return {
    accessToken: r.access_token,
    accessExpiresAt: now + r.expires_in * 1000,
    username: r.username,
    refreshToken: r.refresh_token,
    refreshExpiresAt:
      r.refresh_token_expires_in === undefined ? undefined : now + r.refresh_token_expires_in * 1000,
  };
}

/** One POST to `oauth2/token` (AUTH-TOKEN-ENDPOINT: form body, never the URL). */
async function postTokenGrant(
  http: ArcGisHttpClient,
  restUrl: URL,
  params: Record<string, string | number>,
  options: { idempotent: boolean; what: string; now: number },
): Promise<TokenGrant> {
  const body = await http.requestJson({
    url: new URL('oauth2/token', withSlash(restUrl)),
    method: 'POST',
    idempotent: options.idempotent,
    params,
  });
  return toGrant(body, options.now, options.what);
}

/** grant_type=authorization_code with the PKCE verifier; no client secret (§3). */
export async function redeemAuthorizationCode(
  http: ArcGisHttpClient,
  input: { restUrl: URL; clientId: string; code: string; redirectUri: string; codeVerifier: string },
  now = Date.now(),
): Promise<TokenGrant> {
  return postTokenGrant(
    http,
    input.restUrl,
    {
      grant_type: 'authorization_code',
      client_id: input.clientId,
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.codeVerifier,
    },
    { idempotent: false, what: 'authorization code', now },
  );
}

/** grant_type=refresh_token: a new access token, no new refresh token (§3). */
export async function refreshAccessToken(
  http: ArcGisHttpClient,
  input: { restUrl: URL; clientId: string; refreshToken: string },
  now = Date.now(),
): Promise<TokenGrant> {
  // Repeating a refresh_token grant is harmless: it mints another access token.
  return postTokenGrant(
    http,
    input.restUrl,
    { grant_type: 'refresh_token', client_id: input.clientId, refresh_token: input.refreshToken },
    { idempotent: true, what: 'refresh', now },
  );
}

/**
 * grant_type=exchange_refresh_token: a new access token AND a new refresh token with the original
 * lifetime; the old refresh token and its access tokens die (§3). Not idempotent: a retry after a
 * lost answer would present a dead token.
 */
export async function exchangeRefreshToken(
  http: ArcGisHttpClient,
  input: { restUrl: URL; clientId: string; refreshToken: string; redirectUri: string },
  now = Date.now(),
): Promise<TokenGrant> {
  return postTokenGrant(
    http,
    input.restUrl,
    {
      grant_type: 'exchange_refresh_token',
      client_id: input.clientId,
      redirect_uri: input.redirectUri,
      refresh_token: input.refreshToken,
    },
    { idempotent: false, what: 'refresh-token exchange', now },
  );
}

/** grant_type=client_credentials: an app token (2-legged), no user, no refresh token (§3, §6). */
export async function requestAppToken(
  http: ArcGisHttpClient,
  input: { restUrl: URL; clientId: string; clientSecret: string; expirationMinutes?: number },
  now = Date.now(),
): Promise<TokenGrant> {
  return postTokenGrant(
    http,
    input.restUrl,
    {
      grant_type: 'client_credentials',
      client_id: input.clientId,
      client_secret: input.clientSecret,
      expiration: input.expirationMinutes ?? 120,
    },
    { idempotent: false, what: 'client credentials', now },
  );
}

/** revokeToken answers `{"success":true}` even for unknown tokens (§3). */
export async function revokeToken(
  http: ArcGisHttpClient,
  input: { restUrl: URL; clientId: string; token: string; hint?: 'refresh_token' | 'access_token' },
): Promise<void> {
  await http.requestJson({
    url: new URL('oauth2/revokeToken', withSlash(input.restUrl)),
    method: 'POST',
    idempotent: false,
    params: { client_id: input.clientId, auth_token: input.token, token_type_hint: input.hint },
  });
}

const generateTokenResponse = z.object({ token: z.string().min(1), expires: z.coerce.number().positive() });

/** A token from generateToken: `expires` is epoch ms (§4). */
export interface GeneratedToken {
  token: string;
  expiresAt: number;
}

function toGenerated(body: unknown): GeneratedToken {
  // arcgis-rest-js does not recognise an answer without both `token` and `expires` (§11); nor do we.
  const parsed = generateTokenResponse.safeParse(body);
  if (!parsed.success)
    throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', 'generateToken did not return a token.');
  return { token: parsed.data.token, expiresAt: parsed.data.expires };
}

/** generateToken with username and password, bound to a referer (§4). */
export async function generateUserToken(
  http: ArcGisHttpClient,
  input: {
    tokenServicesUrl: URL;
    username: string;
    password: string;
    referer: string;
    expirationMinutes?: number;
  },
): Promise<GeneratedToken> {
  const body = await http.requestJson({
    url: input.tokenServicesUrl,
    method: 'POST',
    idempotent: false,
    params: {
      username: input.username,
      password: input.password,
      client: 'referer',
      referer: input.referer,
      expiration: input.expirationMinutes ?? 60,
    },
  });
  return toGenerated(body);
}

/** Exchanges a portal token for a federated server's token (§4, §11). */
export async function generateServerToken(
  http: ArcGisHttpClient,
  input: { tokenServicesUrl: URL; portalToken: string; serverUrl: string; referer?: string },
): Promise<GeneratedToken> {
  const body = await http.requestJson({
    url: input.tokenServicesUrl,
    method: 'POST',
    idempotent: false,
    params: {
      token: input.portalToken,
      serverUrl: input.serverUrl,
      ...(input.referer ? { client: 'referer', referer: input.referer } : {}),
    },
  });
  return toGenerated(body);
}

export function withSlash(url: URL): URL {
  const u = new URL(url);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  u.search = '';
  u.hash = '';
  return u;
}
