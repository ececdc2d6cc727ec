import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';
import { generateUserToken, mintAppToken, tokenBearingPrivateRequests } from '../helpers/sandbox-secrets.js';

/**
 * Section D (scripts): credentials from the environment or an `.env` file in the working
 * directory, through the built server over stdio. App credentials (client id + secret, or an app
 * token in ARCGIS_TOKEN) are never used for org content (NET-TWO-LEGGED).
 */
interface ProfileStatus {
  signedIn: boolean;
  username: string | null;
  credentialKind: 'user' | 'app' | null;
  credentialSource: string | null;
  appCredential: string;
  problem: string | null;
  nextStep: string | null;
}

describe('e2e: credentials from the environment (Section D)', () => {
  let sandbox: RunningSandbox;
  let configDir: string;
  const servers: SpawnedServer[] = [];
  const tempDirs: string[] = [];
  const user = (name: string) => sandbox.info.users.find((u) => u.username === name)!;

  beforeAll(async () => {
    sandbox = await startSandbox();
    configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-envcred-'));
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await sandbox?.close();
    for (const d of [configDir, ...tempDirs]) rmSync(d, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>, cwd?: string): Promise<SpawnedServer> {
    // A fresh config dir per server: nothing remembered (services.json) carries over between cases.
    const dir = mkdtempSync(join(configDir, 'server-'));
    const s = await spawnServer(
      { ARCGIS_TOKEN_STORE: 'memory', ARCGIS_CONFIG_DIR: dir, ...env },
      cwd ? { cwd } : {},
    );
    servers.push(s);
    return s;
  }

  const portal = () => ({
    ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
    ARCGIS_CLIENT_ID: sandbox.info.clientId,
  });

  async function status(server: SpawnedServer): Promise<ProfileStatus> {
    const r = await server.call('arcgis_whoami');
    expect(r.isError, textOf(r)).toBeFalsy();
    return (r.structuredContent as { profiles: ProfileStatus[] }).profiles[0]!;
  }

  async function expectRefusedWithoutSending(server: SpawnedServer): Promise<void> {
    const before = sandbox.requests.length;
    const q = await server.call('arcgis_query', { url: sandbox.info.services.private });
    expect(q.isError).toBe(true);
    expect(q.structuredContent).toBeUndefined();
    expect(textOf(q)).toMatch(/^ARCGIS_APP_TOKEN_REFUSED/);
    expect(textOf(q)).toMatch(/arcgis_auth_url/);
    expect(tokenBearingPrivateRequests(sandbox, before)).toEqual([]);
    // The anonymous probe reached the layer: the zero above is about real traffic.
    expect(sandbox.requests.slice(before).some((r) => r.path.includes('Texas_Shelters'))).toBe(true);
  }

  it('ARCGIS_USERNAME + ARCGIS_PASSWORD sign the user in at start; the private layer answers as them', async () => {
    const server = await start({
      ...portal(),
      ARCGIS_USERNAME: 'alice',
      ARCGIS_PASSWORD: user('alice').password,
    });
    const s = await status(server);
    expect(s).toMatchObject({
      signedIn: true,
      username: 'alice',
      credentialKind: 'user',
      credentialSource: 'environment-token',
      problem: null,
    });
    const q = await server.call('arcgis_query', {
      url: sandbox.info.services.private,
      returnCountOnly: true,
    });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect(q.structuredContent).toMatchObject({ accessedAs: 'alice' });
    expect((q.structuredContent as { count: number }).count).toBeGreaterThan(0);
  });

  it('ARCGIS_TOKEN holding a user token (generated at generateToken) signs that user in', async () => {
    const token = await generateUserToken(sandbox, 'bob');
    const server = await start({ ...portal(), ARCGIS_TOKEN: token });
    const s = await status(server);
    expect(s).toMatchObject({
      signedIn: true,
      username: 'bob',
      credentialKind: 'user',
      credentialSource: 'environment-token',
    });
    const q = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 1 });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect(q.structuredContent).toMatchObject({ accessedAs: 'bob' });
    expect(server.stderr()).not.toContain(token);
  });

  it('ARCGIS_USERNAME without ARCGIS_PASSWORD is reported, not silently ignored', async () => {
    const server = await start({ ...portal(), ARCGIS_USERNAME: 'alice' });
    const s = await status(server);
    expect(s.signedIn).toBe(false);
    expect(s.problem).toMatch(/ARCGIS_USERNAME and ARCGIS_PASSWORD/);
  });

  it('a SAML user in ARCGIS_USERNAME: whoami explains the browser sign-in (arcgis_auth_url); the server keeps serving', async () => {
    const server = await start({
      ...portal(),
      ARCGIS_USERNAME: 'carol_saml',
      ARCGIS_PASSWORD: user('carol_saml').password,
    });
    const s = await status(server);
    expect(s.signedIn).toBe(false);
    expect(s.problem).toMatch(/arcgis_auth_url/);
    expect(s.problem).toMatch(/SAML/);
    expect(s.problem).not.toContain(user('carol_saml').password);
    const pub = await server.call('arcgis_query', { url: sandbox.info.services.public, limit: 1 });
    expect(pub.isError, textOf(pub)).toBeFalsy();
    const start2 = await server.call('arcgis_auth_url');
    expect(start2.isError, textOf(start2)).toBeFalsy();
  });

  it('NET-TWO-LEGGED: client id + secret only: whoami says "app", a private query is refused and nothing carries a token there', async () => {
    const server = await start({ ...portal(), ARCGIS_CLIENT_SECRET: sandbox.info.clientSecret });
    const s = await status(server);
    expect(s).toMatchObject({ signedIn: false, credentialKind: 'app', appCredential: 'configured' });
    await expectRefusedWithoutSending(server);
  });

  it('NET-TWO-LEGGED: ARCGIS_TOKEN holding an app token is classified as app and refused for org content', async () => {
    const appToken = await mintAppToken(sandbox);
    const server = await start({ ...portal(), ARCGIS_TOKEN: appToken });
    const s = await status(server);
    expect(s).toMatchObject({ signedIn: false, credentialKind: 'app' });
    await expectRefusedWithoutSending(server);
    expect(server.stderr()).not.toContain(appToken);
  });

  it('reads .env from the working directory, and warns on stderr when git does not ignore it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-dotenv-'));
    tempDirs.push(dir);
    execFileSync('git', ['init', '-q', dir]);
    writeFileSync(
      join(dir, '.env'),
      [
        `ARCGIS_PORTAL_URL=${sandbox.info.portalUrl}`,
        `ARCGIS_CLIENT_ID=${sandbox.info.clientId}`,
        'ARCGIS_USERNAME=bob',
        `ARCGIS_PASSWORD=${user('bob').password}`,
        '',
      ].join('\n'),
    );
    // Only the store and config dir come from the real environment; everything else from .env.
    const server = await start({}, dir);
    const s = await status(server);
    expect(s).toMatchObject({ signedIn: true, username: 'bob', credentialSource: 'environment-token' });
    await server.waitForStderr(/\.env is not ignored by git/);
    expect(server.stderr()).toMatch(/\.gitignore/);
    expect(server.stderr()).not.toContain(user('bob').password);
  });
});
