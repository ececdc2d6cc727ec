import { connect } from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_SIGN_IN_ATTEMPTS,
  startLocalAuthServer,
  type LocalAuthServer,
  type LocalAuthServerOptions,
  type SignInHandlers,
} from '../../src/auth/local-sign-in/local-auth-server.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';

// Canary secrets: none of them may ever come back in a response body, a header or a log line.
const USER_TOKEN = 'canary-user-token-3f9a.b7c1_e2d4-Zq.';
const APP_TOKEN = 'canary-app-token-AAPT85fOqywZsicJ';
const BAD_TOKEN = 'canary-bad-token-0d1e2f3a4b5c6d7e';
const PASSWORD = 'canary-Pa55word!<&>"x';
const WRONG_PASSWORD = 'canary-wrong-password-91';
const CODE = 'canary-authorization-code-77ab91';
const GOOD_STATE = 'good-state-0123456789abcdef0123456789';
const AUTHORIZE_URL = 'https://arcgis.example/portal/sharing/rest/oauth2/authorize?client_id=abc&state=s';

interface Calls {
  startOAuth: string[];
  completeOAuth: Parameters<SignInHandlers['completeOAuth']>[0][];
  adoptToken: string[];
  signInWithPassword: [string, string][];
}

function fakeHandlers(overrides: Partial<SignInHandlers> = {}): { handlers: SignInHandlers; calls: Calls } {
  const calls: Calls = { startOAuth: [], completeOAuth: [], adoptToken: [], signInWithPassword: [] };
  const handlers: SignInHandlers = {
    startOAuth(redirectUri) {
      calls.startOAuth.push(redirectUri);
      return { authorizeUrl: AUTHORIZE_URL, state: 's' };
    },
    async completeOAuth(params) {
      calls.completeOAuth.push(params);
      if (params.error === 'access_denied') {
        throw new ArcGisMcpError('OAUTH_ACCESS_DENIED', 'The sign-in was cancelled on the ArcGIS page.', {
          nextStep: 'Start the sign-in again and choose Allow.',
        });
      }
      if (params.state !== GOOD_STATE) {
        throw new ArcGisMcpError(
          'OAUTH_STATE_MISMATCH',
          'The sign-in answer does not match a started sign-in.',
          {
            nextStep: 'Start a new sign-in.',
          },
        );
      }
      return { way: 'oauth', username: 'gis.analyst' };
    },
    async adoptToken(token) {
      calls.adoptToken.push(token);
      if (token === USER_TOKEN) return { way: 'token', kind: 'user', username: 'gis.analyst' };
      if (token === APP_TOKEN) return { way: 'token', kind: 'app', appTitle: 'Shelter <Finder>' };
      // A careless core that puts the token into its error text: the page must still not show it.
      throw new ArcGisMcpError('ARCGIS_TOKEN_INVALID', `ArcGIS rejected the token ${token}.`, {
        nextStep: 'Generate a new token and paste it.',
      });
    },
    async signInWithPassword(username, password) {
      calls.signInWithPassword.push([username, password]);
      if (password === PASSWORD) return { way: 'password', username };
      throw new ArcGisMcpError('ARCGIS_SIGN_IN_REQUIRED', 'Invalid username or password.', {
        nextStep: 'Check them, or use "Sign in with ArcGIS" if your org uses SAML or MFA.',
      });
    },
    ...overrides,
  };
  return { handlers, calls };
}

const logLines: string[] = [];
const open: LocalAuthServer[] = [];

async function start(
  options: Partial<LocalAuthServerOptions> = {},
): Promise<{ server: LocalAuthServer; calls: Calls; port: number }> {
  const { handlers, calls } = fakeHandlers();
  const server = await startLocalAuthServer({
    handlers,
    portalLabel: 'gis.example.org/portal',
    log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    ...options,
  });
  open.push(server);
  return { server, calls, port: Number(new URL(server.origin).port) };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  for (const line of logLines.splice(0)) expectNoSecret(line);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function http(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const body = await res.body.text();
  const answer = { status: res.statusCode, headers: res.headers, body };
  expectNoSecret(JSON.stringify(answer));
  return answer;
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function pageCsrf(server: LocalAuthServer): Promise<string> {
  const page = await http(server.signInPageUrl ?? '');
  const match = /name="csrf" value="([^"]+)"/.exec(page.body);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

function postForm(
  server: LocalAuthServer,
  way: 'token' | 'password',
  fields: Record<string, string>,
  headers = {},
) {
  return http(`${server.signInPageUrl ?? ''}/${way}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.origin, ...headers },
    body: form(fields),
  });
}

function expectNoSecret(text: string): void {
  for (const secret of [USER_TOKEN, APP_TOKEN, BAD_TOKEN, PASSWORD, WRONG_PASSWORD, CODE]) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
  }
}

/** A raw HTTP/1.1 exchange, for request targets no client library would send. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function callbackQuery(params: Record<string, string>): string {
  return `?${new URLSearchParams(params).toString()}`;
}

describe('local sign-in server: the loopback callback', () => {
  it('AUTH-LOOPBACK: binds 127.0.0.1 only, on a port chosen at run time', async () => {
    const { server, port } = await start();
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(port).toBeGreaterThan(0);
    expect(server.callbackUrl).toBe(`${server.origin}/callback`);
    expect(await canConnect('127.0.0.1', port)).toBe(true);
    // Bound to the one address, not a wildcard: the rest of 127/8 and ::1 refuse.
    expect(await canConnect('127.0.0.2', port)).toBe(false);
    expect(await canConnect('::1', port)).toBe(false);
  });

  it('AUTH-LOOPBACK: listens on the configured port, and says so plainly when it is taken', async () => {
    const port = await freePort();
    const { server } = await start({ port });
    expect(server.origin).toBe(`http://127.0.0.1:${port}`);
    const again = startLocalAuthServer({ handlers: fakeHandlers().handlers, portalLabel: 'x', port });
    await expect(again).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('AUTH-LOOPBACK: answers with no-referrer, no-store, a strict CSP and nosniff, and echoes no code', async () => {
    const { server, calls } = await start();
    const res = await http(`${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`);
    expect(res.status).toBe(200);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/https?:/);
    expect(res.body).toContain('Signed in as <strong>gis.analyst</strong>');
    expect(res.body).toContain('You can close this tab and go back to Claude.');
    expect(res.body).not.toContain(GOOD_STATE);
    expect(res.body).not.toMatch(/<script|<img|<link|src=|https?:\/\//i);
    expect(calls.completeOAuth).toEqual([
      { code: CODE, state: GOOD_STATE, error: null, errorDescription: null },
    ]);
  });

  it('AUTH-LOOPBACK: serves the exact path only', async () => {
    const { server, calls, port } = await start();
    const q = callbackQuery({ code: CODE, state: GOOD_STATE });
    for (const path of [
      '/callback/',
      '/CALLBACK',
      '/callback/x',
      '/%63allback',
      '/callback;x',
      '/',
      '/callbacks',
    ]) {
      expect((await http(`${server.origin}${path}${q}`)).status, path).toBe(404);
    }
    // Request targets a URL parser would "normalise" into /callback.
    for (const target of [`//callback${q}`, `http://127.0.0.1:${port}/callback${q}`, `/./callback${q}`]) {
      const answer = await raw(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      expect(answer.split('\r\n')[0], target).toBe('HTTP/1.1 404 Not Found');
      expectNoSecret(answer);
    }
    expect(calls.completeOAuth).toEqual([]);
  });

  it('AUTH-LOOPBACK: accepts GET only', async () => {
    const { server, calls } = await start();
    const url = `${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`;
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH']) {
      const res = await http(url, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers['allow']).toBe('GET');
    }
    expect(calls.completeOAuth).toEqual([]);
  });

  it('AUTH-LOOPBACK: refuses another Host header (DNS rebinding)', async () => {
    const { server, calls, port } = await start();
    const url = `${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`;
    for (const host of [`evil.example:${port}`, `localhost:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`]) {
      expect((await http(url, { headers: { host } })).status, host).toBe(421);
    }
    const noHost = await raw(port, `GET /callback HTTP/1.0\r\n\r\n`);
    expect(noHost.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (400|421) /);
    expect(calls.completeOAuth).toEqual([]);
  });

  it('AUTH-LOOPBACK: closes after the first valid callback; a second one gets 410 or nothing', async () => {
    const { server, port } = await start();
    const waiting = server.waitForCompletion();
    const res = await http(`${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`);
    expect(res.status).toBe(200);
    await expect(waiting).resolves.toEqual({ way: 'oauth', username: 'gis.analyst' });
    expect(server.completed).toBe(true);
    const second = await http(
      `${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`,
    ).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([410, 'refused']).toContain(second);
    await eventually(async () => !(await canConnect('127.0.0.1', port)));
    // Late callers get the same outcome.
    await expect(server.waitForCompletion()).resolves.toEqual({ way: 'oauth', username: 'gis.analyst' });
  });

  it('AUTH-LOOPBACK: the browser gets its whole page even when the caller closes the server at once', async () => {
    const { server } = await start();
    const closed = server.waitForCompletion().then(async (outcome) => {
      await server.close();
      return outcome;
    });
    const res = await http(`${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('You can close this tab and go back to Claude.');
    expect(res.body.trimEnd().endsWith('</html>')).toBe(true);
    await expect(closed).resolves.toEqual({ way: 'oauth', username: 'gis.analyst' });
    // Closing after a success does not turn the outcome into a cancellation.
    await expect(server.waitForCompletion()).resolves.toEqual({ way: 'oauth', username: 'gis.analyst' });
  });

  it('AUTH-STATE: a rejected state shows the handler message and next step, and the listener stays up', async () => {
    const { server, calls } = await start();
    const bad = await http(`${server.callbackUrl}${callbackQuery({ code: CODE, state: 'forged' })}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('The sign-in answer does not match a started sign-in.');
    expect(bad.body).toContain('Start a new sign-in.');
    expect(bad.body).not.toContain('forged');
    expect(bad.body).not.toMatch(/at .*\.ts:\d+/); // no stack
    expect(server.completed).toBe(false);
    const good = await http(`${server.callbackUrl}${callbackQuery({ code: CODE, state: GOOD_STATE })}`);
    expect(good.status).toBe(200);
    expect(calls.completeOAuth).toHaveLength(2);
  });

  it('AUTH-LOOPBACK: error=access_denied tells the user what went wrong', async () => {
    const { server, calls } = await start();
    const res = await http(
      `${server.callbackUrl}${callbackQuery({ error: 'access_denied', error_description: 'The user denied', state: GOOD_STATE })}`,
    );
    expect(res.status).toBe(400);
    expect(res.body).toContain('The sign-in was cancelled on the ArcGIS page.');
    expect(res.body).toContain('Back to the sign-in page');
    expect(calls.completeOAuth[0]).toEqual({
      code: null,
      state: GOOD_STATE,
      error: 'access_denied',
      errorDescription: 'The user denied',
    });
  });

  it('AUTH-STATE: a callback that repeats code or state is refused before the handler (RFC 6749 §3.1)', async () => {
    const { server, calls } = await start();
    const res = await http(`${server.callbackUrl}?code=${CODE}&code=other-code-123&state=${GOOD_STATE}`);
    expect(res.status).toBe(400);
    const res2 = await http(`${server.callbackUrl}?code=${CODE}&state=${GOOD_STATE}&state=x`);
    expect(res2.status).toBe(400);
    expect(calls.completeOAuth).toEqual([]);
  });

  it('AUTH-LOOPBACK: times out with OAUTH_TIMEOUT and closes the port', async () => {
    const { server, port } = await start({ timeoutMs: 150 });
    const early = server.waitForCompletion();
    await expect(early).rejects.toMatchObject({ code: 'OAUTH_TIMEOUT' });
    await expect(server.waitForCompletion()).rejects.toMatchObject({ code: 'OAUTH_TIMEOUT' });
    await eventually(async () => !(await canConnect('127.0.0.1', port)));
    expect(server.completed).toBe(false);
  });

  it('waitForCompletion: an aborted caller gets CANCELLED, the others still wait; close() cancels everyone', async () => {
    const { server } = await start();
    const controller = new AbortController();
    const aborted = server.waitForCompletion(controller.signal);
    const other = server.waitForCompletion();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'CANCELLED' });
    await server.close();
    await expect(other).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(server.waitForCompletion(AbortSignal.abort())).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('enablePage: false serves /callback only', async () => {
    const { server } = await start({ enablePage: false });
    expect(server.signInPageUrl).toBeNull();
    expect((await http(`${server.origin}/signin/`)).status).toBe(404);
    expect((await http(`${server.origin}/signin/null`)).status).toBe(404);
  });
});

describe('local sign-in server: the one-time sign-in page', () => {
  it('AUTH-LOOPBACK: the page link carries an unguessable id (≥128 bits, base64url)', async () => {
    const { server } = await start();
    const { server: other } = await start();
    const id = /^http:\/\/127\.0\.0\.1:\d+\/signin\/([A-Za-z0-9_-]+)$/.exec(server.signInPageUrl ?? '')?.[1];
    expect(id).toBeDefined();
    expect(Buffer.from(id ?? '', 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(new URL(other.signInPageUrl ?? '').pathname).not.toBe(`/signin/${id}`);
  });

  it('AUTH-LOOPBACK: an unknown page id is a bare 404 with no hint', async () => {
    const { server } = await start();
    const id = new URL(server.signInPageUrl ?? '').pathname.split('/')[2] ?? '';
    const wrongSameLength = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    const answers = await Promise.all(
      [
        `/signin/${wrongSameLength}`,
        `/signin/${id.slice(0, 10)}`,
        '/signin/',
        `/signin/${wrongSameLength}/token`,
      ].map((p) => http(`${server.origin}${p}`)),
    );
    const nowhere = await http(`${server.origin}/nowhere`);
    for (const a of answers) {
      expect(a.status).toBe(404);
      expect(a.body).toBe(nowhere.body);
    }
    expect((await http(`${server.signInPageUrl ?? ''}/other`)).status).toBe(404);
    expect((await http(`${server.signInPageUrl ?? ''}/token/x`)).status).toBe(404);
  });

  it('AUTH-LOOPBACK: the page is plain HTML with no script and no external resource, and explains the three ways', async () => {
    const { server } = await start();
    const page = await http(server.signInPageUrl ?? '');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    expect(page.headers['x-frame-options']).toBe('DENY');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|https?:/);
    expect(page.body).not.toMatch(/<script|<img|<link|<iframe|src=|https?:\/\/|javascript:/i);
    expect(page.body).toContain('Sign in with ArcGIS');
    expect(page.body).toContain('SAML');
    expect(page.body).toContain('gis.example.org/portal/sharing/rest/generateToken');
    expect(page.body).toContain('app token');
    expect(page.body).toMatch(/only\s+for public content and location services/);
    expect(page.body).toMatch(/never for your\s+organization's items or feature services/);
    expect(page.body).toMatch(/<input id="token-input" name="token" type="password" autocomplete="off"/);
    expect(page.body).toMatch(
      /<input id="password-input" name="password" type="password" autocomplete="off"/,
    );
    expect(page.body).not.toContain('<form method="get"');
  });

  it('AUTH-LOOPBACK: the page answers GET only', async () => {
    const { server } = await start();
    const res = await http(server.signInPageUrl ?? '', { method: 'POST', body: '' });
    expect(res.status).toBe(405);
    expect((await http(`${server.signInPageUrl ?? ''}/token`)).status).toBe(405);
    expect((await http(`${server.signInPageUrl ?? ''}/oauth`, { method: 'POST' })).status).toBe(405);
  });

  it('way 1: /oauth redirects to the authorize URL built for this callback, with no referrer', async () => {
    const { server, calls } = await start();
    const res = await http(`${server.signInPageUrl ?? ''}/oauth`, {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(302);
    expect(res.headers['location']).toBe(AUTHORIZE_URL);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(calls.startOAuth).toEqual([server.callbackUrl]);
  });

  it('way 1: a cross-site request cannot start a sign-in, and a non-web authorize URL is refused', async () => {
    const { server, calls } = await start();
    const cross = await http(`${server.signInPageUrl ?? ''}/oauth`, {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(cross.status).toBe(403);
    expect(calls.startOAuth).toEqual([]);

    const { handlers } = fakeHandlers({
      startOAuth: () => ({ authorizeUrl: 'javascript:alert(1)', state: 's' }),
    });
    const odd = await startLocalAuthServer({
      handlers,
      portalLabel: 'p',
      log: createLogger({ write: () => {} }),
    });
    open.push(odd);
    const res = await http(`${odd.signInPageUrl ?? ''}/oauth`);
    expect(res.status).toBe(400);
    expect(res.headers['location']).toBeUndefined();
  });

  it('way 2: a pasted user token goes to adoptToken and the page says who is signed in', async () => {
    const { server, calls, port } = await start();
    const waiting = server.waitForCompletion();
    const res = await postForm(server, 'token', { csrf: await pageCsrf(server), token: ` ${USER_TOKEN}\n` });
    expect(res.status).toBe(200);
    expect(res.body).toContain(
      'Signed in as <strong>gis.analyst</strong> to <strong>gis.example.org/portal</strong>.',
    );
    expect(res.body).toContain('You can close this tab and go back to Claude.');
    expect(calls.adoptToken).toEqual([USER_TOKEN]);
    await expect(waiting).resolves.toEqual({ way: 'token', kind: 'user', username: 'gis.analyst' });
    await eventually(async () => !(await canConnect('127.0.0.1', port)));
  });

  it('NET-TWO-LEGGED: an app token outcome says what it can and cannot reach', async () => {
    const { server } = await start();
    const res = await postForm(server, 'token', { csrf: await pageCsrf(server), token: APP_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body).toContain('app token');
    expect(res.body).toContain('Shelter &lt;Finder&gt;');
    expect(res.body).toMatch(/only for public content and location services/);
    expect(res.body).toMatch(
      /<strong>never<\/strong> be sent to your organization's items or feature services/,
    );
    await expect(server.waitForCompletion()).resolves.toMatchObject({ way: 'token', kind: 'app' });
  });

  it('way 3: username and password go to signInWithPassword', async () => {
    const { server, calls } = await start();
    const res = await postForm(server, 'password', {
      csrf: await pageCsrf(server),
      username: 'gis.analyst',
      password: PASSWORD,
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Signed in as <strong>gis.analyst</strong>');
    expect(calls.signInWithPassword).toEqual([['gis.analyst', PASSWORD]]);
    await expect(server.waitForCompletion()).resolves.toEqual({ way: 'password', username: 'gis.analyst' });
  });

  it('SEC-NO-SECRETS-IN-RESULTS: a failed sign-in shows the message and next step, never the secret', async () => {
    const { server, calls } = await start();
    const csrf = await pageCsrf(server);
    const badToken = await postForm(server, 'token', { csrf, token: BAD_TOKEN });
    expect(badToken.status).toBe(400);
    expect(badToken.body).toContain('ArcGIS rejected the token [REDACTED].');
    expect(badToken.body).toContain('Generate a new token and paste it.');
    expect(badToken.body).toMatch(/name="token" type="password"[^>]*required maxlength="\d+">/); // empty again

    const badPassword = await postForm(server, 'password', {
      csrf,
      username: 'o"brien<x>',
      password: WRONG_PASSWORD,
    });
    expect(badPassword.status).toBe(400);
    expect(badPassword.body).toContain('Invalid username or password.');
    expect(badPassword.body).toContain('value="o&quot;brien&lt;x&gt;"');
    expect(server.completed).toBe(false);
    expect(calls.adoptToken).toEqual([BAD_TOKEN]);
    // `http()` and afterEach already scan every answer and log line for every canary.
  });

  it('SEC-NO-SECRETS-IN-RESULTS: an unexpected handler failure shows a generic message, no stack, no secret', async () => {
    const { handlers } = fakeHandlers({
      adoptToken: () => Promise.reject(new TypeError(`boom near ${BAD_TOKEN}`)),
    });
    const server = await startLocalAuthServer({
      handlers,
      portalLabel: 'p',
      log: createLogger({ level: 'debug', write: (l) => logLines.push(l) }),
    });
    open.push(server);
    const res = await postForm(server, 'token', { csrf: await pageCsrf(server), token: BAD_TOKEN });
    expect(res.status).toBe(400);
    expect(res.body).toContain('Something unexpected went wrong while signing in.');
    expect(res.body).not.toMatch(/TypeError|boom|\.ts:\d+/);
  });

  it('CSRF: a missing, wrong or foreign token is refused with 403 before any handler', async () => {
    const { server, calls } = await start();
    const { server: other } = await start();
    const foreign = await pageCsrf(other);
    const real = await pageCsrf(server);
    expect(foreign).not.toBe(real);
    for (const fields of [
      { token: USER_TOKEN },
      { csrf: '', token: USER_TOKEN },
      { csrf: `${real.slice(0, -1)}x`, token: USER_TOKEN },
      { csrf: foreign, token: USER_TOKEN },
    ]) {
      expect((await postForm(server, 'token', fields)).status, JSON.stringify(fields.csrf)).toBe(403);
    }
    expect(calls.adoptToken).toEqual([]);
    // The same request with the page's own token goes through: the refusals were about the token.
    expect((await postForm(server, 'token', { csrf: real, token: USER_TOKEN })).status).toBe(200);
  });

  it('CSRF: a repeated csrf field is refused', async () => {
    const { server, calls } = await start();
    const real = await pageCsrf(server);
    const res = await http(`${server.signInPageUrl ?? ''}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${real}&csrf=${real}&token=${USER_TOKEN}`,
    });
    expect(res.status).toBe(400);
    expect(calls.adoptToken).toEqual([]);
  });

  it('CSRF: a cross-origin Origin or Sec-Fetch-Site is refused even with the right token', async () => {
    const { server, calls, port } = await start();
    const csrf = await pageCsrf(server);
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: `http://127.0.0.1:${port + 1}` },
      { origin: `http://localhost:${port}` },
      { origin: 'null' },
      { origin: server.origin, 'sec-fetch-site': 'cross-site' },
      { origin: server.origin, 'sec-fetch-site': 'same-site' },
    ]) {
      const res = await postForm(server, 'password', { csrf, username: 'u', password: PASSWORD }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect(calls.signInWithPassword).toEqual([]);
    // Same origin, or no browser signals at all (a script), with the token: accepted.
    const ok = await postForm(
      server,
      'password',
      { csrf, username: 'u', password: PASSWORD },
      {
        'sec-fetch-site': 'same-origin',
      },
    );
    expect(ok.status).toBe(200);
  });

  it('form bodies are capped at 16 KB and must be form-encoded', async () => {
    const { server, calls, port } = await start();
    const csrf = await pageCsrf(server);
    const big = await postForm(server, 'token', { csrf, token: 'x'.repeat(17 * 1024) });
    expect(big.status).toBe(413);
    // Without Content-Length (chunked), the cap applies while reading.
    const id = new URL(server.signInPageUrl ?? '').pathname;
    const chunk = 'a'.repeat(8 * 1024);
    const chunked = await raw(
      port,
      `POST ${id}/token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n` +
        [1, 2, 3].map(() => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('') +
        '0\r\n\r\n',
    );
    expect(chunked.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    const json = await http(`${server.signInPageUrl ?? ''}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csrf, token: USER_TOKEN }),
    });
    expect(json.status).toBe(415);
    expect(calls.adoptToken).toEqual([]);
  });

  it('empty fields are explained on the page without calling a handler', async () => {
    const { server, calls } = await start();
    const csrf = await pageCsrf(server);
    const noToken = await postForm(server, 'token', { csrf, token: '   ' });
    expect(noToken.status).toBe(400);
    expect(noToken.body).toContain('No token was entered.');
    const noPassword = await postForm(server, 'password', { csrf, username: 'gis.analyst', password: '' });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body).toContain('Enter both your ArcGIS username and your password.');
    expect(calls.adoptToken).toEqual([]);
    expect(calls.signInWithPassword).toEqual([]);
  });

  it(`attempts through the page are capped at ${MAX_SIGN_IN_ATTEMPTS}`, async () => {
    const { server, calls } = await start();
    const csrf = await pageCsrf(server);
    for (let i = 0; i < MAX_SIGN_IN_ATTEMPTS; i += 1) {
      expect(
        (await postForm(server, 'password', { csrf, username: 'u', password: WRONG_PASSWORD })).status,
      ).toBe(400);
    }
    const refused = await postForm(server, 'password', { csrf, username: 'u', password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(calls.signInWithPassword).toHaveLength(MAX_SIGN_IN_ATTEMPTS);
  });

  it('after a success the page link is gone: 410 while closing, then nothing', async () => {
    const { server, port } = await start();
    const csrf = await pageCsrf(server);
    expect((await postForm(server, 'token', { csrf, token: USER_TOKEN })).status).toBe(200);
    const again = await http(server.signInPageUrl ?? '').then(
      (r) => r.status,
      () => 'refused',
    );
    expect([410, 'refused']).toContain(again);
    await eventually(async () => !(await canConnect('127.0.0.1', port)));
  });

  it('SEC-REDACT: pasted secrets are registered, so log lines carry none of them', async () => {
    const lines: string[] = [];
    const { handlers } = fakeHandlers({
      async adoptToken(token) {
        lines.push(`core saw ${token}`);
        throw new ArcGisMcpError('ARCGIS_TOKEN_INVALID', 'nope');
      },
    });
    const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    const server = await startLocalAuthServer({ handlers, portalLabel: 'p', log: logger });
    open.push(server);
    await postForm(server, 'token', { csrf: await pageCsrf(server), token: BAD_TOKEN });
    logger.info(`echo ${BAD_TOKEN}`);
    expect(lines.at(-1)).toContain('echo [REDACTED]');
  });
});
