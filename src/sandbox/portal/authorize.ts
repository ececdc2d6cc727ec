import { matchesRegisteredRedirect } from '../auth/redirect-match.js';
import { checkPassword, findApp } from '../directory.js';
import { param } from '../http/request-context.js';
import type { RequestContext } from '../http/request-context.js';
import { html, redirect } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';
import { authorizeErrorPage, oobCodePage, oobDeniedPage, signInPage } from './sign-in-page.js';
import type { AuthorizeParams } from './sign-in-page.js';

const OOB = 'urn:ietf:wg:oauth:2.0:oob';

/** §3 expiration: minutes; default 20160 (two weeks), max 129600 (90 days). */
const DEFAULT_REFRESH_MINUTES = 20160;
const MAX_REFRESH_MINUTES = 129600;

/**
 * `/oauth2/authorize`: GET shows the sign-in form, POST submits it (§3, §10.3).
 * Client and exact redirect are checked before anything else, on both methods: the hidden inputs
 * come back from the browser and may have been edited.
 */
export function authorize(ctx: RequestContext, state: SandboxState): Reply {
  const params = readParams(ctx);
  const app = findApp(params.clientId);
  if (app === undefined) return html(authorizeErrorPage('Invalid client_id'), 400);
  if (params.redirectUri === '' || !matchesRegisteredRedirect(params.redirectUri, app.redirectUris)) {
    return html(authorizeErrorPage('Invalid redirect_uri'), 400);
  }

  // From here on errors go back to the (now trusted) redirect URI (RFC 6749 §4.1.2.1).
  if (params.responseType !== 'code') {
    return errorRedirect(params, 'unsupported_response_type', 'response_type must be code');
  }
  const method = params.codeChallengeMethod;
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    return errorRedirect(params, 'invalid_request', 'Unsupported code_challenge_method');
  }
  if (method !== undefined && params.codeChallenge === undefined) {
    return errorRedirect(params, 'invalid_request', 'code_challenge is required with code_challenge_method');
  }

  const action = ctx.rawPath;
  if (ctx.method !== 'POST') return html(signInPage(action, app.title, params));

  if (param(ctx, 'action') === 'cancel') {
    return errorRedirect(params, 'access_denied', 'The user denied your request.');
  }
  const user = checkPassword(ctx.body.get('username') ?? '', ctx.body.get('password') ?? '');
  if (user === undefined) {
    return html(signInPage(action, app.title, params, 'Invalid username or password.'));
  }

  const code = state.store.issueCode({
    clientId: app.clientId,
    redirectUri: params.redirectUri,
    codeChallenge: params.codeChallenge ?? null,
    // RFC 7636 §4.3: a challenge without a method is `plain`.
    codeChallengeMethod: params.codeChallenge === undefined ? null : method === 'S256' ? 'S256' : 'plain',
    username: user.username,
    refreshLifetimeSeconds: refreshLifetime(params.expiration, state),
  });
  if (params.redirectUri === OOB) return html(oobCodePage(code));
  return redirect(withQuery(params.redirectUri, { code, state: params.state }));
}

function readParams(ctx: RequestContext): AuthorizeParams {
  const opt = (name: string): string | undefined => {
    const value = param(ctx, name);
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    clientId: param(ctx, 'client_id') ?? '',
    redirectUri: param(ctx, 'redirect_uri') ?? '',
    responseType: param(ctx, 'response_type') ?? '',
    // state is echoed exactly, even when empty-looking JSON (§11: Esri sends a JSON string).
    state: param(ctx, 'state'),
    codeChallenge: opt('code_challenge'),
    codeChallengeMethod: opt('code_challenge_method'),
    expiration: opt('expiration'),
  };
}

/** refreshTtlSeconds (when configured) wins over `expiration`; otherwise minutes, capped at 90 days. */
function refreshLifetime(expiration: string | undefined, state: SandboxState): number {
  if (state.lifetimes.refreshTtlSeconds !== null) return state.lifetimes.refreshTtlSeconds;
  const minutes = Number(expiration);
  const chosen =
    Number.isFinite(minutes) && minutes > 0
      ? Math.min(minutes, MAX_REFRESH_MINUTES)
      : DEFAULT_REFRESH_MINUTES;
  return Math.round(chosen * 60);
}

function errorRedirect(params: AuthorizeParams, error: string, description: string): Reply {
  if (params.redirectUri === OOB)
    return html(oobDeniedPage(description), error === 'access_denied' ? 200 : 400);
  return redirect(
    withQuery(params.redirectUri, { error, error_description: description, state: params.state }),
  );
}

function withQuery(base: string, values: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(values))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}
