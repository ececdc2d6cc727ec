import { createHash } from 'node:crypto';
import { TokenStore } from '../../src/sandbox/auth/token-store.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';

/**
 * Every secret the in-process sandbox issues while the tap is on: access tokens (user, app,
 * generateToken, server), refresh tokens and authorization codes, plus the PKCE challenges the
 * codes were bound to (so a leaked verifier can be recognised by its S256 hash).
 *
 * The sandbox keeps its TokenStore private; the tap wraps the class's prototype methods, which is
 * the same class the in-process sandbox instantiates (one module graph under vitest).
 */
export interface IssuedSecrets {
  accessTokens: Set<string>;
  refreshTokens: Set<string>;
  codes: Set<string>;
  codeChallenges: Set<string>;
  all(): string[];
  stop(): void;
}

export function tapIssuedSecrets(): IssuedSecrets {
  const proto = TokenStore.prototype;
  const original = {
    issueAccess: proto.issueAccess,
    issueRefresh: proto.issueRefresh,
    issueCode: proto.issueCode,
  };
  const issued: IssuedSecrets = {
    accessTokens: new Set(),
    refreshTokens: new Set(),
    codes: new Set(),
    codeChallenges: new Set(),
    all: () => [...issued.accessTokens, ...issued.refreshTokens, ...issued.codes],
    stop: () => Object.assign(proto, original),
  };
  proto.issueAccess = function (this: TokenStore, ...args: Parameters<TokenStore['issueAccess']>) {
    const r = original.issueAccess.apply(this, args);
    issued.accessTokens.add(r.token);
    return r;
  };
  proto.issueRefresh = function (this: TokenStore, ...args: Parameters<TokenStore['issueRefresh']>) {
    const token = original.issueRefresh.apply(this, args);
    issued.refreshTokens.add(token);
    return token;
  };
  proto.issueCode = function (this: TokenStore, ...args: Parameters<TokenStore['issueCode']>) {
    const code = original.issueCode.apply(this, args);
    issued.codes.add(code);
    if (args[0].codeChallenge) issued.codeChallenges.add(args[0].codeChallenge);
    return code;
  };
  return issued;
}

/** RFC 7636 S256: BASE64URL(SHA256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/**
 * Candidate PKCE verifiers in `text`: maximal runs of the verifier alphabet (RFC 7636 §4.1,
 * 43–128 characters) whose S256 hash is one of `challenges`.
 */
export function leakedVerifiers(text: string, challenges: Set<string>): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/[A-Za-z0-9._~-]{43,}/g)) {
    const run = m[0];
    // A verifier may sit inside a longer run (e.g. glued to a dot): try every 43..128 window start
    // only when the run is short enough to be cheap; otherwise the whole run.
    if (run.length <= 128) {
      if (challenges.has(s256(run))) found.push(run);
      continue;
    }
    for (let len = 43; len <= 128; len++) {
      for (let i = 0; i + len <= run.length; i++) {
        const candidate = run.slice(i, i + len);
        if (challenges.has(s256(candidate))) found.push(candidate);
      }
    }
  }
  return found;
}

/** POST a form to the sandbox and parse the JSON answer. */
async function postForm(url: string, fields: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ f: 'json', ...fields }).toString(),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** Section B: a user token generated at `{portal}/sharing/rest/generateToken`, not referer-bound. */
export async function generateUserToken(sandbox: RunningSandbox, username: string): Promise<string> {
  const user = sandbox.info.users.find((u) => u.username === username);
  if (!user) throw new Error(`no sandbox user ${username}`);
  const body = await postForm(`${sandbox.info.restUrl}/generateToken`, {
    username,
    password: user.password,
    client: 'requestip',
    expiration: '60',
  });
  if (typeof body.token !== 'string') throw new Error(`generateToken failed: ${JSON.stringify(body)}`);
  return body.token;
}

/** Section C / NET-TWO-LEGGED: an app token (client_credentials with the ready line's secret). */
export async function mintAppToken(sandbox: RunningSandbox): Promise<string> {
  const body = await postForm(`${sandbox.info.restUrl}/oauth2/token`, {
    client_id: sandbox.info.clientId,
    client_secret: sandbox.info.clientSecret,
    grant_type: 'client_credentials',
  });
  if (typeof body.access_token !== 'string')
    throw new Error(`client_credentials failed: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Requests that carried a token (of any kind) to the org-private service (Texas_Shelters). */
export function tokenBearingPrivateRequests(sandbox: RunningSandbox, since = 0) {
  const privatePath = new URL(sandbox.info.services.privateService).pathname.toLowerCase();
  return sandbox.requests
    .slice(since)
    .filter((r) => r.path.toLowerCase().startsWith(privatePath) && r.tokenIn !== 'none');
}
