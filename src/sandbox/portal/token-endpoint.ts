import { isValidVerifier, verifierMatches } from '../auth/pkce.js';
import { matchesRegisteredRedirect } from '../auth/redirect-match.js';
import { PORTAL_REALM } from '../auth/token-store.js';
import { findApp } from '../directory.js';
import type { RegisteredApp } from '../directory.js';
import { oauthError } from '../errors.js';
import type { ErrorBody } from '../errors.js';
import { param } from '../http/request-context.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';

/** §3 Lifetimes: app tokens default 2 h, max two weeks (`expiration` is in minutes). */
const MAX_APP_TOKEN_SECONDS = 20160 * 60;

/**
 * `/oauth2/token` (§3): the four grants, HTTP-200 error envelopes with the OAuth fields nested.
 * Accepts GET as well as POST, as ArcGIS does; the request log records where parameters came
 * from, so a client that puts a secret in a query string is caught by the security tests.
 */
export function token(ctx: RequestContext, state: SandboxState): Reply {
  const fail = (body: ErrorBody): Reply => errorReply(body, 'portal', state.quirks.httpErrorStatuses);
  const app = findApp(param(ctx, 'client_id'));
  if (app === undefined) return fail(oauthError(400, 'invalid_client_id', 'Invalid client_id'));
  switch (param(ctx, 'grant_type')) {
    case 'authorization_code':
      return authorizationCode(ctx, state, app, fail);
    case 'refresh_token':
      return refreshToken(ctx, state, app, fail, false);
    case 'exchange_refresh_token':
      return refreshToken(ctx, state, app, fail, true);
    case 'client_credentials':
      return clientCredentials(ctx, state, app, fail);
    default:
      // Text [U].
      return fail(oauthError(400, 'unsupported_grant_type', 'Unsupported grant_type'));
  }
}

function authorizationCode(
  ctx: RequestContext,
  state: SandboxState,
  app: RegisteredApp,
  fail: (body: ErrorBody) => Reply,
): Reply {
  const { store } = state;
  const code = param(ctx, 'code') ?? '';
  // Texts for bad code / redirect / verifier are [U] (§3): same envelope, code 400.
  const record = store.findCode(code);
  if (record === undefined || record.clientId !== app.clientId) {
    return fail(oauthError(400, 'invalid_grant', 'Invalid authorization code'));
  }
  if (record.used) {
    // RFC 6749 §4.1.2 / RFC 9700 §4.2.4: a replayed code may mean it leaked: revoke what it produced.
    if (state.quirks.revokeOnCodeReuse && record.issuedRefreshToken !== null) {
      store.revokeRefresh(record.issuedRefreshToken);
    }
    return fail(oauthError(400, 'invalid_grant', 'Authorization code has already been used'));
  }
  // Single use: the first redemption attempt burns the code, even a failed one (no verifier guessing).
  record.used = true;
  if (store.isExpired(record)) return fail(oauthError(400, 'invalid_grant', 'Authorization code expired'));
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorize request.
  if (param(ctx, 'redirect_uri') !== record.redirectUri) {
    return fail(oauthError(400, 'invalid_grant', 'Invalid redirect_uri'));
  }
  const verifier = param(ctx, 'code_verifier');
  if (record.codeChallenge !== null && record.codeChallengeMethod !== null) {
    if (verifier === undefined || verifier === '') {
      return fail(oauthError(400, 'invalid_request', 'code_verifier is required'));
    }
    if (
      !isValidVerifier(verifier) ||
      !verifierMatches(verifier, record.codeChallenge, record.codeChallengeMethod)
    ) {
      return fail(oauthError(400, 'invalid_grant', 'Invalid code_verifier'));
    }
  } else if (verifier !== undefined && verifier !== '') {
    // PKCE downgrade (RFC 9700 §2.1.1): a verifier for a code issued without a challenge. ArcGIS [U].
    return fail(oauthError(400, 'invalid_grant', 'Invalid code_verifier'));
  }
  // §3: no client_secret is needed; a wrong one is still refused [U].
  const secret = param(ctx, 'client_secret');
  if (secret !== undefined && secret !== app.clientSecret) {
    return fail(oauthError(400, 'invalid_client', 'Invalid client_secret'));
  }

  const refresh = store.issueRefresh({
    username: record.username,
    clientId: app.clientId,
    redirectUri: record.redirectUri,
    lifetimeSeconds: record.refreshLifetimeSeconds,
  });
  record.issuedRefreshToken = refresh;
  const access = issueUserAccess(state, record.username, app, refresh);
  return json({
    access_token: access,
    expires_in: state.lifetimes.tokenTtlSeconds,
    username: record.username,
    ssl: true,
    refresh_token: refresh,
    // §3 [O]: seen as expiration×60 − 1 (1209599, 7199).
    refresh_token_expires_in: record.refreshLifetimeSeconds - 1,
  });
}

function refreshToken(
  ctx: RequestContext,
  state: SandboxState,
  app: RegisteredApp,
  fail: (body: ErrorBody) => Reply,
  exchange: boolean,
): Reply {
  const { store } = state;
  const presented = param(ctx, 'refresh_token') ?? '';
  const record = store.findRefresh(presented);
  // §3 [O]: unknown, revoked, or another app's refresh token: "Invalid refresh_token", code 498.
  if (record === undefined || record.revoked || record.clientId !== app.clientId) {
    return fail(oauthError(498, 'invalid_request', 'Invalid refresh_token'));
  }
  if (store.isExpired(record)) return fail(oauthError(498, 'invalid_request', 'refresh_token expired'));

  if (!exchange) {
    // §3: refresh_token returns no new refresh token.
    const access = issueUserAccess(state, record.username, app, presented);
    return json({
      access_token: access,
      expires_in: state.lifetimes.tokenTtlSeconds,
      username: record.username,
      ssl: true,
    });
  }

  // §3: exchange_refresh_token needs a registered redirect_uri [U: whether it must equal the original].
  const redirectUri = param(ctx, 'redirect_uri') ?? '';
  if (!matchesRegisteredRedirect(redirectUri, app.redirectUris)) {
    return fail(oauthError(400, 'invalid_request', 'Invalid redirect_uri'));
  }
  // §3 rotation: the old refresh token and every access token minted from it die.
  store.revokeRefresh(presented);
  const rotated = store.issueRefresh({
    username: record.username,
    clientId: app.clientId,
    redirectUri: record.redirectUri,
    lifetimeSeconds: record.lifetimeSeconds,
  });
  const access = issueUserAccess(state, record.username, app, rotated);
  return json({
    access_token: access,
    expires_in: state.lifetimes.tokenTtlSeconds,
    username: record.username,
    ssl: true,
    refresh_token: rotated,
    refresh_token_expires_in: record.lifetimeSeconds - 1,
  });
}

function clientCredentials(
  ctx: RequestContext,
  state: SandboxState,
  app: RegisteredApp,
  fail: (body: ErrorBody) => Reply,
): Reply {
  if (param(ctx, 'client_secret') !== app.clientSecret) {
    // Text [U].
    return fail(oauthError(400, 'invalid_client', 'Invalid client_secret'));
  }
  const minutes = Number(param(ctx, 'expiration'));
  const seconds =
    state.lifetimes.appTokenTtlSeconds ??
    (Number.isFinite(minutes) && minutes > 0
      ? Math.min(Math.round(minutes * 60), MAX_APP_TOKEN_SECONDS)
      : 7200);
  const { token } = state.store.issueAccess(
    {
      kind: 'app',
      realm: PORTAL_REALM,
      username: null,
      clientId: app.clientId,
      refreshToken: null,
      referer: null,
      source: 'client_credentials',
    },
    seconds,
  );
  // §3: an app token: no username, no refresh token.
  return json({ access_token: token, expires_in: seconds });
}

function issueUserAccess(state: SandboxState, username: string, app: RegisteredApp, refresh: string): string {
  return state.store.issueAccess(
    {
      kind: 'user',
      realm: PORTAL_REALM,
      username,
      clientId: app.clientId,
      refreshToken: refresh,
      referer: null,
      source: 'oauth',
    },
    state.lifetimes.tokenTtlSeconds,
  ).token;
}
