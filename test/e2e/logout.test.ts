import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInLikeABrowser } from '../../src/cli/scripted-browser.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { submitLocalSignInForm } from '../helpers/local-sign-in-page.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';
import { tapIssuedSecrets, type IssuedSecrets } from '../helpers/sandbox-secrets.js';
import { secretService } from '../helpers/secret-service.js';

/**
 * arcgis_logout (STORE-EXPLICIT-FALLBACK: "Sign-out deletes every copy"): the refresh token is
 * revoked at the portal, the keychain entry or the credentials file is gone, and a restart does not
 * bring the session back. Runs against the real Secret Service when one answers, and always against
 * the opt-in file store.
 */
const stores = secretService.available ? (['keychain', 'file'] as const) : (['file'] as const);
if (!secretService.available) {
  console.warn(`[logout e2e] keychain case skipped: no Secret Service (${secretService.reason})`);
}

interface Whoami {
  profiles: Array<{ signedIn: boolean; username: string | null }>;
}

/** `secret-tool lookup` as a user would run it; @napi-rs/keyring files the account under `username`. */
function keychainLookup(account: string): { found: boolean; value: string } {
  const r = spawnSync('secret-tool', ['lookup', 'service', 'arcgis-mcp', 'username', account], {
    encoding: 'utf8',
    env: process.env,
    timeout: 5000,
  });
  return { found: r.status === 0 && r.stdout.length > 0, value: r.stdout };
}

function keychainClear(account: string): void {
  spawnSync('secret-tool', ['clear', 'service', 'arcgis-mcp', 'username', account], {
    env: process.env,
    timeout: 5000,
  });
}

for (const store of stores) {
  describe(`e2e: sign out [${store} store]`, () => {
    let sandbox: RunningSandbox;
    let issued: IssuedSecrets;
    let configDir: string;
    let server: SpawnedServer;
    let env: Record<string, string>;
    let account: string;
    const credentialsFile = () => join(configDir, 'credentials.json');

    beforeAll(async () => {
      issued = tapIssuedSecrets();
      sandbox = await startSandbox();
      configDir = mkdtempSync(join(tmpdir(), `arcgis-mcp-logout-${store}-`));
      account = `default@${sandbox.info.portalUrl}`;
      env = {
        ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
        ARCGIS_CLIENT_ID: sandbox.info.clientId,
        ARCGIS_TOKEN_STORE: store,
        ARCGIS_CONFIG_DIR: configDir,
      };
      server = await spawnServer(env);
    });

    afterAll(async () => {
      issued?.stop();
      await server?.close();
      if (store === 'keychain' && account) keychainClear(account);
      await sandbox?.close();
      rmSync(configDir, { recursive: true, force: true });
    });

    it(`STORE-EXPLICIT-FALLBACK: sign-out revokes at the portal and deletes every copy [${store}]`, async () => {
      // Sign in (out-of-band) as alice.
      const start = await server.call('arcgis_auth_url');
      const { authorizeUrl } = start.structuredContent as { authorizeUrl: string };
      const alice = sandbox.info.users.find((u) => u.username === 'alice')!;
      const { code } = await signInLikeABrowser(authorizeUrl, alice.username, alice.password);
      const done = await server.call('arcgis_exchange_code', { code: code! });
      expect(done.isError, textOf(done)).toBeFalsy();
      expect(issued.refreshTokens.size).toBe(1);
      const [refreshToken] = [...issued.refreshTokens];

      // The copy exists before sign-out (otherwise "gone" below proves nothing).
      if (store === 'keychain') {
        const entry = keychainLookup(account);
        expect(entry.found).toBe(true);
        expect(entry.value).toContain(refreshToken);
      } else {
        expect(readFileSync(credentialsFile(), 'utf8')).toContain(refreshToken);
      }

      const before = sandbox.requests.length;
      const out = await server.call('arcgis_logout');
      expect(out.isError, textOf(out)).toBeFalsy();
      expect(out.structuredContent).toMatchObject({
        profiles: [{ profile: 'default', revokedAtPortal: true, deletedFromStore: true }],
      });
      expect(textOf(out)).not.toContain(refreshToken);

      // The portal saw a revokeToken (a POST with the token in the body, never in the URL).
      const revokes = sandbox.requests.slice(before).filter((r) => /\/oauth2\/revoketoken$/i.test(r.path));
      expect(revokes).toHaveLength(1);
      expect(revokes[0]).toMatchObject({ method: 'POST' });
      expect(revokes[0]!.queryKeys).not.toContain('auth_token');
      // ...and the refresh token is really dead there.
      const refresh = await fetch(`${sandbox.info.restUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          f: 'json',
          client_id: sandbox.info.clientId,
          grant_type: 'refresh_token',
          refresh_token: refreshToken!,
        }).toString(),
      });
      expect(await refresh.json()).toHaveProperty('error');

      const who = await server.call('arcgis_whoami');
      expect((who.structuredContent as unknown as Whoami).profiles[0]!.signedIn).toBe(false);
      const q = await server.call('arcgis_query', { url: sandbox.info.services.private });
      expect(q.isError).toBe(true);
      expect(textOf(q)).toMatch(/^ARCGIS_SIGN_IN_REQUIRED/);

      if (store === 'keychain') {
        expect(keychainLookup(account).found).toBe(false);
      } else {
        const file = credentialsFile();
        if (existsSync(file)) expect(readFileSync(file, 'utf8')).not.toContain(refreshToken);
        expect(existsSync(file) ? readFileSync(file, 'utf8') : '').not.toContain(account);
      }
    });

    it(`after a restart the user is still signed out [${store}]`, async () => {
      await server.close();
      server = await spawnServer(env);
      const who = await server.call('arcgis_whoami');
      expect(who.isError, textOf(who)).toBeFalsy();
      expect((who.structuredContent as unknown as Whoami).profiles[0]).toMatchObject({
        signedIn: false,
        username: null,
      });
      // Signing out again is harmless (idempotent) and deletes nothing new.
      const again = await server.call('arcgis_logout');
      expect(again.isError, textOf(again)).toBeFalsy();
      expect(again.structuredContent).toMatchObject({
        profiles: [{ revokedAtPortal: false, deletedFromStore: false }],
      });
    });
  });
}

describe('e2e: sign out after another sign-in replaced the OAuth session [file store]', () => {
  let sandbox: RunningSandbox;
  let issued: IssuedSecrets;
  let configDir: string;
  let server: SpawnedServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    issued = tapIssuedSecrets();
    sandbox = await startSandbox();
    configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-logout-replaced-'));
    env = {
      ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
      ARCGIS_CLIENT_ID: sandbox.info.clientId,
      ARCGIS_TOKEN_STORE: 'file',
      ARCGIS_CONFIG_DIR: configDir,
    };
    server = await spawnServer(env);
  });

  afterAll(async () => {
    issued?.stop();
    await server?.close();
    await sandbox?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  // Regression test for a bug found while writing it.
  it('STORE-EXPLICIT-FALLBACK: the replaced OAuth refresh token is revoked at the portal too', async () => {
    const start = await server.call('arcgis_auth_url');
    const { authorizeUrl } = start.structuredContent as { authorizeUrl: string };
    const alice = sandbox.info.users.find((u) => u.username === 'alice')!;
    const { code } = await signInLikeABrowser(authorizeUrl, alice.username, alice.password);
    expect((await server.call('arcgis_exchange_code', { code: code! })).isError).toBeFalsy();
    const [refreshToken] = [...issued.refreshTokens];

    // Then the user signs in as bob on the local page (username + password).
    const pageStart = await server.call('arcgis_auth_url', { way: 'sign-in-page' });
    const link = (pageStart.structuredContent as { signInPageUrl: string }).signInPageUrl;
    const bob = sandbox.info.users.find((u) => u.username === 'bob')!;
    const sub = await submitLocalSignInForm(link, 'password', { username: 'bob', password: bob.password });
    expect(sub.status).toBe(200);

    const out = await server.call('arcgis_logout');
    expect(out.isError, textOf(out)).toBeFalsy();
    expect(existsSync(join(configDir, 'credentials.json'))).toBe(false);
    const refresh = await fetch(`${sandbox.info.restUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        f: 'json',
        client_id: sandbox.info.clientId,
        grant_type: 'refresh_token',
        refresh_token: refreshToken!,
      }).toString(),
    });
    expect(await refresh.json(), 'the refresh token still works at the portal').toHaveProperty('error');
  });
});
