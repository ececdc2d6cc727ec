import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { signInLikeABrowser } from '../../src/cli/scripted-browser.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';
import { secretService } from '../helpers/secret-service.js';

/**
 * The decision tree of product.md end to end: the built server over stdio (SDK client), the
 * sandbox on loopback, and the refresh token in a real keychain when one is available.
 */
const store = secretService.available ? 'keychain' : 'file';

describe(`e2e: sign in (OOB) and query as the user [${store} store]`, () => {
  let sandbox: RunningSandbox;
  let configDir: string;
  let server: SpawnedServer;
  let env: Record<string, string>;
  const alice = () => sandbox.info.users.find((u) => u.username === 'alice') ?? sandbox.info.users[0]!;

  beforeAll(async () => {
    if (!secretService.available) {
      console.warn(
        `[e2e] no Secret Service (${secretService.reason}): using the opt-in file store instead of the keychain`,
      );
    }
    sandbox = await startSandbox();
    configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-e2e-'));
    env = {
      ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
      ARCGIS_CLIENT_ID: sandbox.info.clientId,
      ARCGIS_TOKEN_STORE: store,
      ARCGIS_CONFIG_DIR: configDir,
    };
    server = await spawnServer(env);
  });

  afterAll(async () => {
    // Leave nothing behind in the keychain: sign out through the store the server used.
    await server?.close();
    const { createSecretStore } = await import('../../src/auth/store/create-secret-store.js');
    await createSecretStore(store, { configDir })
      .delete(`default@${sandbox.info.portalUrl}`)
      .catch(() => undefined);
    await sandbox?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('lists the four design-card tools, each with an output schema and annotations', async () => {
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      expect.arrayContaining(['arcgis_auth_url', 'arcgis_exchange_code', 'arcgis_query', 'arcgis_whoami']),
    );
    for (const t of tools) {
      expect(t.outputSchema, t.name).toBeDefined();
      expect(t.annotations, t.name).toBeDefined();
      expect(t.description?.length ?? 0, t.name).toBeGreaterThan(40);
    }
    const instructions = server.client.getInstructions() ?? '';
    expect(instructions).toMatch(/arcgis_auth_url/);
  });

  it('AUTH-NO-SECRET-IN-CHAT: no tool takes a password, secret or token argument', async () => {
    const { tools } = await server.client.listTools();
    for (const t of tools) {
      const props = Object.keys((t.inputSchema as { properties?: object }).properties ?? {});
      for (const p of props) expect(p, `${t.name}.${p}`).not.toMatch(/pass|secret|token|api_?key|verifier/i);
    }
  });

  it('answers a public layer anonymously', async () => {
    const r = await server.call('arcgis_query', { url: sandbox.info.services.public, limit: 5 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const s = r.structuredContent as { accessedAs: string; returned: number; features: unknown[] };
    expect(s.accessedAs).toBe('anonymous');
    expect(s.returned).toBe(5);
    expect(s.features).toHaveLength(5);
  });

  it('refuses the private layer with a next step that names arcgis_auth_url', async () => {
    const r = await server.call('arcgis_query', { url: sandbox.info.services.private });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(textOf(r)).toMatch(/ARCGIS_SIGN_IN_REQUIRED/);
    expect(textOf(r)).toMatch(/arcgis_auth_url/);
  });

  it('whoami says nobody is signed in and what to do', async () => {
    const r = await server.call('arcgis_whoami');
    const s = r.structuredContent as { profiles: Array<{ signedIn: boolean; nextStep: string | null }> };
    expect(s.profiles[0]?.signedIn).toBe(false);
    expect(s.profiles[0]?.nextStep).toMatch(/arcgis_auth_url/);
  });

  it('signs in out-of-band, reports who, and the private layer answers as that user', async () => {
    const start = await server.call('arcgis_auth_url');
    expect(start.isError, textOf(start)).toBeFalsy();
    const { authorizeUrl, redirectMode } = start.structuredContent as {
      authorizeUrl: string;
      redirectMode: string;
    };
    expect(redirectMode).toBe('out-of-band');
    const u = new URL(authorizeUrl);
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');

    const { code } = await signInLikeABrowser(authorizeUrl, alice().username, alice().password);
    expect(code).toBeTruthy();

    const done = await server.call('arcgis_exchange_code', { code: code! });
    expect(done.isError, textOf(done)).toBeFalsy();
    const who = done.structuredContent as { username: string; refreshTokenStoredIn: string | null };
    expect(who.username).toBe(alice().username);
    expect(who.refreshTokenStoredIn).toBeTruthy();

    const q = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 3 });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect((q.structuredContent as { accessedAs: string }).accessedAs).toBe(alice().username);
  });

  it('a reused code is refused and the server keeps serving', async () => {
    const start = await server.call('arcgis_auth_url');
    const { authorizeUrl } = start.structuredContent as { authorizeUrl: string };
    const { code } = await signInLikeABrowser(authorizeUrl, alice().username, alice().password);
    const first = await server.call('arcgis_exchange_code', { code: code! });
    expect(first.isError, textOf(first)).toBeFalsy();
    const again = await server.call('arcgis_exchange_code', { code: code! });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/arcgis_auth_url/);
    const still = await server.call('arcgis_whoami');
    expect(still.isError).toBeFalsy();
  });

  it('restores the session after a restart, from the store, without a new sign-in', async () => {
    await server.close();
    server = await spawnServer(env);
    const who = await server.call('arcgis_whoami');
    const s = who.structuredContent as { profiles: Array<{ signedIn: boolean; username: string | null }> };
    expect(s.profiles[0]).toMatchObject({ signedIn: true, username: alice().username });
    const q = await server.call('arcgis_query', {
      url: sandbox.info.services.private,
      returnCountOnly: true,
    });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect((q.structuredContent as { count: number }).count).toBeGreaterThan(0);
  });
});
