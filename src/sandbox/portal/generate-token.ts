import { PORTAL_REALM } from '../auth/token-store.js';
import type { AccessTokenRecord } from '../auth/token-store.js';
import { identify } from '../auth/authenticate.js';
import { findUser } from '../directory.js';
import { badRequest, invalidToken, unableToGenerateToken } from '../errors.js';
import type { ErrorBody } from '../errors.js';
import { param } from '../http/request-context.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import { normalizeRoot } from '../state.js';
import type { SandboxState } from '../state.js';

/** §4: default 60 minutes; the maximum is server configuration (docs say 21600 or 20160). */
const DEFAULT_MINUTES = 60;
const MAX_MINUTES = 21600;

/**
 * `{portal}/sharing/rest/generateToken` (§4). Two shapes:
 * - `username, password, client, referer, expiration` → a portal token (optionally for `serverUrl`);
 * - `token=<portal token>&serverUrl=<root>` → a **server token**, valid only at that federated
 *   server (§4, §11).
 * POST only: credentials never travel in a URL.
 */
export function generateToken(ctx: RequestContext, state: SandboxState): Reply {
  const fail = (body: ErrorBody): Reply => errorReply(body, 'portal', state.quirks.httpErrorStatuses);
  // Text [U]; ArcGIS refuses GET here with the envelope.
  if (ctx.method !== 'POST')
    return fail(badRequest('Unable to generate token.', ['generateToken requires POST.']));

  const binding = refererBinding(ctx);
  if (binding === 'missing') return fail(badRequest('Unable to generate token.', ['Referer is required.']));

  const serverUrl = param(ctx, 'serverUrl');
  let realm = PORTAL_REALM;
  if (serverUrl !== undefined && serverUrl !== '') {
    const root = federatedRealm(serverUrl, state);
    if (root === null) return fail(badRequest('Unable to generate token.', ['Invalid serverUrl.']));
    realm = root;
  }

  const username = param(ctx, 'username');
  if (username === undefined || username === '') {
    if (realm === PORTAL_REALM) return fail(unableToGenerateToken());
    return exchangeForServerToken(ctx, state, realm, binding, fail);
  }

  // §4 [U]: SAML/MFA users have no portal password: the same failure as bad credentials.
  const user = findUser(username);
  if (user === undefined || !user.canUseGenerateToken || user.password !== param(ctx, 'password')) {
    return fail(unableToGenerateToken());
  }
  const seconds = lifetimeSeconds(param(ctx, 'expiration'));
  const { record, token } = state.store.issueAccess(
    {
      kind: realm === PORTAL_REALM ? 'user' : 'server',
      realm,
      username: user.username,
      clientId: null,
      refreshToken: null,
      referer: binding,
      source: realm === PORTAL_REALM ? 'generateToken' : 'server',
    },
    seconds,
  );
  return json({ token, expires: record.expiresAt, ssl: true });
}

/** §4/§11: a portal user token becomes a token for one federated server. */
function exchangeForServerToken(
  ctx: RequestContext,
  state: SandboxState,
  realm: string,
  binding: string | null,
  fail: (body: ErrorBody) => Reply,
): Reply {
  const caller = identify(ctx, state.store, (r) => r.realm === PORTAL_REALM);
  if (caller.kind === 'anonymous') return fail(unableToGenerateToken());
  if (caller.kind === 'invalid') return fail(invalidToken());
  // §6: an app token carries no user, so it cannot become a server token [U: exact answer].
  if (caller.kind !== 'user') return fail(badRequest('Unable to generate token.', ['Not a user token.']));
  const portal: AccessTokenRecord = caller.record;
  // [U] The server token never outlives the portal token it came from: no lifetime escalation.
  const requested = lifetimeSeconds(param(ctx, 'expiration'));
  const remaining = Math.floor((portal.expiresAt - state.now()) / 1000);
  const { record, token } = state.store.issueAccess(
    {
      kind: 'server',
      realm,
      username: portal.username,
      clientId: portal.clientId,
      // Dies with the refresh token family of the portal token (revocation, rotation).
      refreshToken: portal.refreshToken,
      referer: binding,
      source: 'server',
    },
    Math.max(1, Math.min(requested, remaining)),
  );
  return json({ token, expires: record.expiresAt, ssl: true });
}

/** null when the client is not bound; `missing` when client=referer arrives without a referer. */
function refererBinding(ctx: RequestContext): string | null | 'missing' {
  if (param(ctx, 'client') !== 'referer') return null;
  const referer = param(ctx, 'referer');
  return referer === undefined || referer === '' ? 'missing' : referer;
}

function lifetimeSeconds(expiration: string | undefined): number {
  const minutes = Number(expiration);
  const chosen = Number.isFinite(minutes) && minutes > 0 ? Math.min(minutes, MAX_MINUTES) : DEFAULT_MINUTES;
  return Math.round(chosen * 60);
}

/** Servers federated with this portal: its own hosting server and, in Enterprise mode, the federated one. */
function federatedRealm(serverUrl: string, state: SandboxState): string | null {
  const wanted = normalizeRoot(serverUrl);
  const known = [state.urls.hostingRoot, state.urls.federatedRoot].filter((u): u is string => u !== null);
  return known.map(normalizeRoot).find((root) => root.toLowerCase() === wanted.toLowerCase()) ?? null;
}
