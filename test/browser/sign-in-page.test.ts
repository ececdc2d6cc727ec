import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startLocalAuthServer,
  type LocalAuthServer,
  type SignInHandlers,
} from '../../src/auth/local-sign-in/local-auth-server.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';

/**
 * The local sign-in page as a user meets it: headless Chromium with JavaScript disabled, each of
 * the three ways filled in and submitted, and the OAuth way bounced through a fake ArcGIS
 * authorize endpoint back to the loopback callback. environment.md: Debian `chromium` and
 * `playwright-core` (no browser download here).
 */

const CHROMIUM = '/usr/bin/chromium';
const REQUIRED = process.env['ARCGIS_REQUIRE_BROWSER'] === '1';
const AVAILABLE = existsSync(CHROMIUM);
const SCREENSHOT = '/tmp/sign-in-page.png';

if (!AVAILABLE && !REQUIRED) {
  console.warn(
    `[test/browser] SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium). ` +
      'Set ARCGIS_REQUIRE_BROWSER=1 to make this a failure instead of a skip.',
  );
}

if (!AVAILABLE && REQUIRED) {
  describe('browser tests required', () => {
    it('Chromium is installed (ARCGIS_REQUIRE_BROWSER=1)', () => {
      expect.fail(`${CHROMIUM} is missing but ARCGIS_REQUIRE_BROWSER=1: install Debian's chromium package.`);
    });
  });
}

const USER_TOKEN = 'browser-user-token-5e7f.c0ffee_beef-x.';
const PASSWORD = 'browser-Pa55word-9c3e!';
const CODE = 'browser-code-a1b2c3d4e5f6';
const STATE = 'browser-state-0f1e2d3c4b5a69788796a5b4';

interface Recorded {
  startOAuth: string[];
  completeOAuth: Parameters<SignInHandlers['completeOAuth']>[0][];
  adoptToken: string[];
  signInWithPassword: [string, string][];
}

/** A stand-in for `{portal}/sharing/rest/oauth2/authorize`: the user "signs in" and is sent back at once. */
interface FakeArcGis {
  origin: string;
  hits: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startFakeArcGis(): Promise<FakeArcGis> {
  const hits: FakeArcGis['hits'] = [];
  const server: Server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const redirectUri = url.searchParams.get('redirect_uri');
    if (url.pathname !== '/portal/sharing/rest/oauth2/authorize' || !redirectUri) {
      res.writeHead(404).end();
      return;
    }
    const back = new URL(redirectUri);
    back.searchParams.set('code', CODE);
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    res.writeHead(302, { Location: back.href, Connection: 'close' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function handlersFor(arcgis: FakeArcGis, recorded: Recorded): SignInHandlers {
  return {
    startOAuth(redirectUri) {
      recorded.startOAuth.push(redirectUri);
      const url = new URL(`${arcgis.origin}/portal/sharing/rest/oauth2/authorize`);
      url.searchParams.set('client_id', 'browser-test-app');
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', STATE);
      return { authorizeUrl: url.href, state: STATE };
    },
    async completeOAuth(params) {
      recorded.completeOAuth.push(params);
      if (params.state !== STATE) throw new ArcGisMcpError('OAUTH_STATE_MISMATCH', 'State mismatch.');
      return { way: 'oauth', username: 'maria.gis' };
    },
    async adoptToken(token) {
      recorded.adoptToken.push(token);
      return { way: 'token', kind: 'user', username: 'token.user' };
    },
    async signInWithPassword(username, password) {
      recorded.signInWithPassword.push([username, password]);
      if (password !== PASSWORD) {
        throw new ArcGisMcpError('ARCGIS_SIGN_IN_REQUIRED', 'Invalid username or password.', {
          nextStep: 'Check them, or use "Sign in with ArcGIS" if your organization uses SAML or MFA.',
        });
      }
      return { way: 'password', username };
    },
  };
}

/** Clicks a submit button and waits until the answer page has loaded (no JavaScript: a real navigation). */
async function submit(page: Page, button: string, pathEnd: string): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(pathEnd),
    ),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  await page.waitForLoadState('load');
  return response.status();
}

describe.skipIf(!AVAILABLE)('local sign-in page in headless Chromium (JavaScript disabled)', () => {
  let browser: Browser;
  let arcgis: FakeArcGis;
  let context: BrowserContext | undefined;
  let server: LocalAuthServer | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    arcgis = await startFakeArcGis();
  });

  afterEach(async () => {
    await context?.close();
    await server?.close();
    context = undefined;
    server = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await arcgis?.close();
  });

  async function open(): Promise<{
    page: Page;
    recorded: Recorded;
    requests: URL[];
    server: LocalAuthServer;
  }> {
    const recorded: Recorded = { startOAuth: [], completeOAuth: [], adoptToken: [], signInWithPassword: [] };
    server = await startLocalAuthServer({
      handlers: handlersFor(arcgis, recorded),
      portalLabel: 'gis.example.org/portal',
      log: createLogger({ write: () => {} }),
    });
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 900 } });
    const page = await context.newPage();
    const requests: URL[] = [];
    page.on('request', (r) => requests.push(new URL(r.url())));
    const response = await page.goto(server.signInPageUrl ?? '');
    expect(response?.status()).toBe(200);
    return { page, recorded, requests, server };
  }

  function expectOnlyLoopback(requests: URL[], allowedOrigins: string[]): void {
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) {
      expect(url.hostname, url.href).toBe('127.0.0.1');
      expect(allowedOrigins, url.href).toContain(url.origin);
    }
  }

  it('AUTH-LOOPBACK: way 1, "Sign in with ArcGIS", goes to ArcGIS and back to "you can close this tab"', async () => {
    const { page, recorded, requests, server: s } = await open();
    const waiting = s.waitForCompletion();
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/callback', { waitUntil: 'load' }),
      page.getByRole('link', { name: 'Sign in with ArcGIS' }).click(),
    ]);
    expect(await page.locator('h1').innerText()).toBe('Signed in');
    const text = await page.locator('main').innerText();
    expect(text).toContain('Signed in as maria.gis to gis.example.org/portal.');
    expect(text).toContain('You can close this tab and go back to Claude.');
    expect(text).not.toContain(CODE);
    expect(new URL(page.url()).pathname).toBe('/callback');
    expect(recorded.startOAuth).toEqual([s.callbackUrl]);
    expect(recorded.completeOAuth).toEqual([
      { code: CODE, state: STATE, error: null, errorDescription: null },
    ]);
    await expect(waiting).resolves.toEqual({ way: 'oauth', username: 'maria.gis' });
    // Only the two loopback servers were contacted, and ArcGIS never saw the page link as a referrer.
    expectOnlyLoopback(requests, [s.origin, arcgis.origin]);
    const authorize = arcgis.hits.at(-1);
    expect(authorize?.headers.referer).toBeUndefined();
  });

  it('way 2: paste a token', async () => {
    const { page, recorded, requests, server: s } = await open();
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const input = page.getByLabel('Token', { exact: true });
    expect(await input.getAttribute('type')).toBe('password');
    await input.fill(USER_TOKEN);
    // 200, not 403: Chromium's own Origin and Sec-Fetch-Site headers pass the CSRF checks.
    expect(await submit(page, 'Use this token', '/token')).toBe(200);
    const text = await page.locator('main').innerText();
    expect(text).toContain('Signed in as token.user to gis.example.org/portal.');
    expect(text).toContain('You can close this tab and go back to Claude.');
    expect(recorded.adoptToken).toEqual([USER_TOKEN]);
    expect(s.completed).toBe(true);
    expect(page.url()).not.toContain(USER_TOKEN);
    await page.screenshot({ path: '/tmp/sign-in-page-done.png' });
    expectOnlyLoopback(requests, [s.origin]);
  });

  it('way 3: username and password, with a wrong password first', async () => {
    const { page, recorded, requests, server: s } = await open();
    await page.getByLabel('ArcGIS username').fill('maria.gis');
    await page.getByLabel('Password').fill('not-the-password-1');
    expect(await submit(page, 'Sign in', '/password')).toBe(400);
    expect(new URL(page.url()).hash).toBe('#password'); // the answer opens at the form that was used
    const error = await page.locator('#password .notice.error').innerText();
    expect(error).toContain('Invalid username or password.');
    expect(error).toContain('Next step:');
    expect(await page.getByLabel('ArcGIS username').inputValue()).toBe('maria.gis');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    await page.screenshot({ path: '/tmp/sign-in-page-error.png', fullPage: true });

    await page.getByLabel('Password').fill(PASSWORD);
    expect(await submit(page, 'Sign in', '/password')).toBe(200);
    const text = await page.locator('main').innerText();
    expect(text).toContain('Signed in as maria.gis to gis.example.org/portal.');
    expect(recorded.signInWithPassword).toEqual([
      ['maria.gis', 'not-the-password-1'],
      ['maria.gis', PASSWORD],
    ]);
    await expect(s.waitForCompletion()).resolves.toEqual({ way: 'password', username: 'maria.gis' });
    expectOnlyLoopback(requests, [s.origin]);
    for (const url of requests) expect(url.href).not.toContain(PASSWORD);
  });
});
