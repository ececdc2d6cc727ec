import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { describeBrowser, launchChromium, newNoScriptContext } from '../helpers/browser.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';
import { generateUserToken, mintAppToken, tokenBearingPrivateRequests } from '../helpers/sandbox-secrets.js';

/**
 * Every way in (product.md Sections A–D) through the built server over stdio and a real headless
 * Chromium: the loopback redirect (nothing pasted), and the one-time local sign-in page with
 * "Sign in with ArcGIS", a generated token, username + password, an app token (refused for org
 * content) and a SAML user (told to use the browser sign-in). The page runs with JavaScript off.
 */
interface AuthUrl {
  link: string;
  authorizeUrl: string | null;
  signInPageUrl: string | null;
  redirectMode: string;
}
interface SignedIn {
  username: string;
  credentialSource: string | null;
}
interface Whoami {
  profiles: Array<{ signedIn: boolean; username: string | null; credentialKind: string | null }>;
}

describeBrowser('e2e: sign-in ways in headless Chromium', () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  let configDir: string;
  let server: SpawnedServer;
  let context: BrowserContext;
  let page: Page;
  const user = (name: string) => sandbox.info.users.find((u) => u.username === name)!;

  beforeAll(async () => {
    sandbox = await startSandbox();
    browser = await launchChromium();
    configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-ways-'));
  });

  beforeEach(async () => {
    // A fresh server per way: "signed in" must come from this way, not from an earlier one.
    server = await spawnServer({
      ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
      ARCGIS_CLIENT_ID: sandbox.info.clientId,
      ARCGIS_REDIRECT_URI: 'http://127.0.0.1/callback',
      ARCGIS_TOKEN_STORE: 'memory',
      // Fresh per server: nothing remembered (e.g. services.json) carries over from another way.
      ARCGIS_CONFIG_DIR: mkdtempSync(join(configDir, 'server-')),
    });
    context = await newNoScriptContext(browser);
    page = await context.newPage();
  });

  afterEach(async () => {
    await context?.close();
    await server?.close();
  });

  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  /** Starts `arcgis_exchange_code` without a code (it waits), collecting progress notifications. */
  function waitForExchange(progress: Progress[] = []): Promise<CallToolResult> {
    const pending = server.client.callTool(
      { name: 'arcgis_exchange_code', arguments: { waitSeconds: 60 } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    ) as Promise<CallToolResult>;
    // If the test fails before awaiting it, closing the server must not surface as an unhandled rejection.
    pending.catch(() => undefined);
    return pending;
  }

  async function signInPage(): Promise<string> {
    const r = await server.call('arcgis_auth_url', { way: 'sign-in-page' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const s = r.structuredContent as unknown as AuthUrl;
    expect(s.redirectMode).toBe('sign-in-page');
    expect(s.signInPageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/signin\/[A-Za-z0-9_-]{43}$/);
    expect(s.link).toBe(s.signInPageUrl);
    return s.signInPageUrl!;
  }

  /** The sandbox's own sign-in form (product.md contract: inputs `username` and `password`). */
  async function submitSandboxForm(username: string, pauseMs = 0): Promise<void> {
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(user(username).password);
    // Deliberate: a person takes a moment, long enough for a progress notification (every 2 s).
    if (pauseMs > 0) await page.waitForTimeout(pauseMs);
    await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/), page.click('#signin')]);
  }

  async function expectPrivateQueryAs(username: string): Promise<void> {
    const q = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 2 });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect((q.structuredContent as { accessedAs: string }).accessedAs).toBe(username);
  }

  it('AUTH-LOOPBACK: loopback sign-in with nothing pasted, progress while waiting, then a private query', async () => {
    const start = await server.call('arcgis_auth_url');
    expect(start.isError, textOf(start)).toBeFalsy();
    const s = start.structuredContent as unknown as AuthUrl;
    expect(s.redirectMode).toBe('loopback');
    const redirect = new URL(new URL(s.authorizeUrl!).searchParams.get('redirect_uri')!);
    expect(redirect.hostname).toBe('127.0.0.1');
    expect(Number(redirect.port)).toBeGreaterThan(0);
    expect(redirect.pathname).toBe('/callback');

    const progress: Progress[] = [];
    const exchange = waitForExchange(progress);
    const startedAt = Date.now();
    await page.goto(s.link);
    const callback = page.waitForResponse((r) => r.url().startsWith(`${redirect.origin}/callback?`));
    await submitSandboxForm('alice', 2500);
    const body = await page.locator('body').innerText();
    expect(body).toMatch(/signed in as alice/i);
    expect(body).toMatch(/close this tab/i);
    // AUTH-LOOPBACK: the callback page leaks nothing onward and is not cached.
    const headers = (await callback).headers();
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['cache-control']).toMatch(/no-store/);

    const done = await exchange;
    const waited = Date.now() - startedAt;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect((done.structuredContent as unknown as SignedIn).username).toBe('alice');
    expect(waited).toBeGreaterThan(2000);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[0]!.message ?? '').toMatch(/sign/i);
    await expectPrivateQueryAs('alice');
    // AUTH-LOOPBACK: the listener closed after the first valid callback.
    await expect(fetch(`${redirect.origin}/callback?code=x&state=y`)).rejects.toThrow();
  });

  // Regression test for a bug found while writing it.
  it('AUTH-LOOPBACK: Cancel on the ArcGIS page ends the wait at once with OAUTH_ACCESS_DENIED', async () => {
    const start = await server.call('arcgis_auth_url');
    const s = start.structuredContent as unknown as AuthUrl;
    expect(s.redirectMode).toBe('loopback');
    const exchange = server.client.callTool({
      name: 'arcgis_exchange_code',
      arguments: { waitSeconds: 4 },
    });
    exchange.catch(() => undefined);
    await page.goto(s.link);
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('#cancel')]);
    expect(await page.locator('body').innerText()).toMatch(/did not finish/i);
    const done = (await exchange) as CallToolResult;
    expect(done.isError).toBe(true);
    expect(textOf(done)).toMatch(/^OAUTH_ACCESS_DENIED/);
  });

  it('sign-in page, way 1 "Sign in with ArcGIS": sandbox form, back to the page, signed in', async () => {
    const link = await signInPage();
    const exchange = waitForExchange();
    await page.goto(link);
    expect(await page.title()).toMatch(/Sign in to ArcGIS/);
    await Promise.all([
      page.waitForURL(/\/oauth2\/authorize/),
      page.click('a:has-text("Sign in with ArcGIS")'),
    ]);
    await submitSandboxForm('bob');
    expect(await page.locator('body').innerText()).toMatch(/signed in as bob/i);
    const done = await exchange;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent as unknown as SignedIn).toMatchObject({
      username: 'bob',
      credentialSource: 'oauth',
    });
    await expectPrivateQueryAs('bob');
  });

  it('sign-in page, way 2: a token generated at generateToken signs that user in', async () => {
    const token = await generateUserToken(sandbox, 'bob');
    const link = await signInPage();
    const exchange = waitForExchange();
    await page.goto(link);
    await page.locator('#token-input').fill(token);
    await Promise.all([page.waitForLoadState(), page.click('#token button[type="submit"]')]);
    const body = await page.locator('body').innerText();
    expect(body).toMatch(/signed in as bob/i);
    expect(await page.content()).not.toContain(token);
    const done = await exchange;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent as unknown as SignedIn).toMatchObject({
      username: 'bob',
      credentialSource: 'pasted-token',
    });
    await expectPrivateQueryAs('bob');
  });

  it('sign-in page, way 3: username and password sign in', async () => {
    const link = await signInPage();
    const exchange = waitForExchange();
    await page.goto(link);
    await page.locator('#username-input').fill('alice');
    await page.locator('#password-input').fill(user('alice').password);
    await Promise.all([page.waitForLoadState(), page.click('#password button[type="submit"]')]);
    expect(await page.locator('body').innerText()).toMatch(/signed in as alice/i);
    expect(await page.content()).not.toContain(user('alice').password);
    const done = await exchange;
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent as unknown as SignedIn).toMatchObject({
      username: 'alice',
      credentialSource: 'generate-token',
    });
    await expectPrivateQueryAs('alice');
  });

  it('NET-TWO-LEGGED: an app token pasted on the page is refused for org content, and never sent there', async () => {
    const appToken = await mintAppToken(sandbox);
    const link = await signInPage();
    const exchange = waitForExchange();
    await page.goto(link);
    await page.locator('#token-input').fill(appToken);
    await Promise.all([page.waitForLoadState(), page.click('#token button[type="submit"]')]);
    const body = await page.locator('body').innerText();
    expect(body).toMatch(/app token/i);
    expect(body).toMatch(/never/i);

    const done = await exchange;
    expect(done.isError).toBe(true);
    expect(done.structuredContent).toBeUndefined();
    expect(textOf(done)).toMatch(/ARCGIS_APP_TOKEN_REFUSED/);
    expect(textOf(done)).toMatch(/arcgis_auth_url/);

    const who = await server.call('arcgis_whoami');
    const p = (who.structuredContent as unknown as Whoami).profiles[0]!;
    expect(p.signedIn).toBe(false);
    expect(p.credentialKind).toBe('app');

    const before = sandbox.requests.length;
    const q = await server.call('arcgis_query', { url: sandbox.info.services.private });
    expect(q.isError).toBe(true);
    expect(textOf(q)).toMatch(/ARCGIS_APP_TOKEN_REFUSED/);
    expect(tokenBearingPrivateRequests(sandbox, before)).toEqual([]);
    // The anonymous probe did happen (public first), so the check above looked at real traffic.
    expect(sandbox.requests.slice(before).some((r) => r.path.includes('Texas_Shelters'))).toBe(true);
  });

  // Regression test for a bug found while writing it.
  it('a user who finishes on the page before arcgis_exchange_code is called is reported as signed in', async () => {
    const link = await signInPage();
    await page.goto(link);
    await page.locator('#username-input').fill('alice');
    await page.locator('#password-input').fill(user('alice').password);
    await Promise.all([page.waitForLoadState(), page.click('#password button[type="submit"]')]);
    expect(await page.locator('body').innerText()).toMatch(/signed in as alice/i);
    // The user says "done" in the chat; only now does the model call arcgis_exchange_code.
    const done = await server.call('arcgis_exchange_code', { waitSeconds: 5 });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect((done.structuredContent as unknown as SignedIn).username).toBe('alice');
  });

  it('a SAML user entering a password is told to use "Sign in with ArcGIS" (SAML/MFA)', async () => {
    const link = await signInPage();
    await page.goto(link);
    await page.locator('#username-input').fill('carol_saml');
    await page.locator('#password-input').fill(user('carol_saml').password);
    await Promise.all([page.waitForLoadState(), page.click('#password button[type="submit"]')]);
    const notice = await page.locator('#password [role="alert"]').innerText();
    expect(notice).toMatch(/did not work/i);
    expect(notice).toMatch(/Sign in with ArcGIS/);
    expect(notice).toMatch(/SAML/);
    expect(notice).toMatch(/MFA/);
    // The username is kept, the password never comes back into the page.
    expect(await page.locator('#username-input').inputValue()).toBe('carol_saml');
    expect(await page.content()).not.toContain(user('carol_saml').password);
    const who = await server.call('arcgis_whoami');
    expect((who.structuredContent as unknown as Whoami).profiles[0]!.signedIn).toBe(false);
  });
});
