import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import {
  accountOf,
  alice,
  bob,
  deleteStored,
  expectStillServing,
  expectToolError,
  mark,
  readStored,
  removeDir,
  serverEnv,
  signInOob,
  since,
  STORE,
  tempConfigDir,
  type QueryOut,
} from '../helpers/e2e-kit.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';

/**
 * Several portals at once (profiles): one from the environment ("default", sandbox A), one from
 * `config.json` ("east", sandbox B). Sessions are per profile, a service URL is served by the
 * profile that owns its host, and the model can name a profile but never a portal
 * (AUTH-PORTAL-FROM-CONFIG).
 */
type ProfileStatus = { profile: string; portalUrl: string; signedIn: boolean; username: string | null };
type WhoamiOut = { profiles: ProfileStatus[] };

describe(`e2e: two portals as two profiles [${STORE} store]`, () => {
  let a: RunningSandbox;
  let b: RunningSandbox;
  let configDir: string;
  let env: Record<string, string>;
  let server: SpawnedServer;

  const status = async (s: SpawnedServer) =>
    Object.fromEntries(
      ((await s.call('arcgis_whoami')).structuredContent as WhoamiOut).profiles.map((p) => [p.profile, p]),
    );

  beforeAll(async () => {
    [a, b] = await Promise.all([startSandbox(), startSandbox()]);
    configDir = tempConfigDir();
    writeFileSync(
      join(configDir, 'config.json'),
      JSON.stringify({ profiles: { east: { portalUrl: b.info.portalUrl, clientId: b.info.clientId } } }),
    );
    env = serverEnv(a, configDir);
    server = await spawnServer(env);
  });

  afterAll(async () => {
    await server?.close();
    await deleteStored(configDir, accountOf(a, 'default'));
    await deleteStored(configDir, accountOf(b, 'east'));
    await Promise.all([a?.close(), b?.close()]);
    removeDir(configDir);
  });

  it('AUTH-PORTAL-FROM-CONFIG: every tool that acts on a portal offers exactly the configured profiles', async () => {
    const { tools } = await server.client.listTools();
    const withProfile = tools.filter((t) => 'profile' in ((t.inputSchema.properties ?? {}) as object));
    expect(withProfile.map((t) => t.name)).toEqual(
      expect.arrayContaining(['arcgis_auth_url', 'arcgis_exchange_code', 'arcgis_whoami', 'arcgis_query']),
    );
    for (const t of withProfile) {
      const prop = (t.inputSchema.properties as Record<string, { enum?: string[] }>).profile;
      expect(prop?.enum?.slice().sort(), t.name).toEqual(['default', 'east']);
    }
    // No tool lets the model name a portal.
    for (const t of tools) {
      const props = Object.keys((t.inputSchema.properties ?? {}) as object);
      for (const p of props) expect(p, `${t.name}.${p}`).not.toMatch(/portal|url.*portal|server_?url/i);
    }
  });

  it('whoami lists both profiles, each with its portal, nobody signed in', async () => {
    const s = await status(server);
    expect(Object.keys(s).sort()).toEqual(['default', 'east']);
    expect(s.default).toMatchObject({ portalUrl: `${a.info.portalUrl}`, signedIn: false });
    expect(s.east).toMatchObject({ portalUrl: `${b.info.portalUrl}`, signedIn: false });
  });

  it("signing in to one profile does not sign in the other; B's private layer is served with B's session", async () => {
    const done = await signInOob(server, bob(b), 'east');
    expect(done.structuredContent).toMatchObject({ profile: 'east', username: bob(b).username });

    const s = await status(server);
    expect(s.east).toMatchObject({ signedIn: true, username: bob(b).username });
    expect(s.default).toMatchObject({ signedIn: false, username: null });
    expect(await readStored(configDir, accountOf(b, 'east'))).toMatchObject({ username: bob(b).username });
    expect(await readStored(configDir, accountOf(a, 'default'))).toBeNull();

    // A's private layer still needs a sign-in to A, and the hint names A's profile.
    const qa = await server.call('arcgis_query', { url: a.info.services.private, limit: 1 });
    expect(expectToolError(qa, 'ARCGIS_SIGN_IN_REQUIRED')).toMatch(/arcgis_auth_url/);

    // No profile given: the URL's host picks "east", and B sees bob's token, A sees none.
    const ma = mark(a);
    const mb = mark(b);
    const qb = await server.call('arcgis_query', { url: b.info.services.private, returnCountOnly: true });
    expect(qb.isError, textOf(qb)).toBeFalsy();
    expect((qb.structuredContent as QueryOut).accessedAs).toBe(bob(b).username);
    expect(since(b, mb).some((r) => r.tokenKind === 'user')).toBe(true);
    expect(since(a, ma)).toEqual([]);
  });

  it('each profile keeps its own user: alice on A, bob on B, each URL matched to the profile owning its host', async () => {
    await signInOob(server, alice(a)); // the default profile
    const s = await status(server);
    expect(s.default).toMatchObject({ signedIn: true, username: alice(a).username });
    expect(s.east).toMatchObject({ signedIn: true, username: bob(b).username });

    const mA = mark(a);
    const mB = mark(b);
    const [qa, qb] = await Promise.all([
      server.call('arcgis_query', { url: a.info.services.private, returnCountOnly: true }),
      server.call('arcgis_query', { url: b.info.services.private, returnCountOnly: true }),
    ]);
    expect((qa.structuredContent as QueryOut).accessedAs).toBe(alice(a).username);
    expect((qb.structuredContent as QueryOut).accessedAs).toBe(bob(b).username);
    // Each portal saw only its own tokens: nothing invalid (another portal's token) arrived anywhere.
    expect(since(a, mA).filter((r) => r.tokenKind === 'invalid')).toEqual([]);
    expect(since(b, mB).filter((r) => r.tokenKind === 'invalid')).toEqual([]);
  });

  it("NET-ALLOWLIST: naming the wrong profile for a URL sends that profile's token nowhere", async () => {
    const mB = mark(b);
    const q = await server.call('arcgis_query', {
      url: b.info.services.private,
      profile: 'default',
      returnCountOnly: true,
    });
    expect(q.isError, textOf(q)).toBe(true);
    expect(since(b, mB).filter((r) => r.tokenIn !== 'none')).toEqual([]);
    await expectStillServing(server);
  });

  it('AUTH-PORTAL-FROM-CONFIG: an unknown profile name is rejected by the schema and the server keeps serving', async () => {
    for (const tool of ['arcgis_whoami', 'arcgis_auth_url', 'arcgis_query']) {
      const args: Record<string, unknown> = { profile: 'west' };
      if (tool === 'arcgis_query') args.url = a.info.services.public;
      const r = await server.call(tool, args);
      expect(r.isError, `${tool}: ${textOf(r)}`).toBe(true);
      expect(textOf(r)).toMatch(/profile/i);
    }
    await expectStillServing(server);
  });

  it('AUTH-PORTAL-FROM-CONFIG: a portal URL smuggled into the arguments is not where the sign-in goes', async () => {
    const r = await server.call('arcgis_auth_url', {
      profile: 'east',
      portalUrl: 'http://127.0.0.1:9/portal',
    } as Record<string, unknown>);
    if (!r.isError) {
      const { authorizeUrl, portalUrl } = r.structuredContent as { authorizeUrl: string; portalUrl: string };
      expect(portalUrl).toBe(b.info.portalUrl);
      expect(new URL(authorizeUrl).origin).toBe(new URL(b.info.portalUrl).origin);
    }
    expect(textOf(r)).not.toContain('127.0.0.1:9/');
  });

  it('restarting keeps both sessions apart', async () => {
    await server.close();
    server = await spawnServer(env);
    const s = await status(server);
    expect(s.default).toMatchObject({ signedIn: true, username: alice(a).username });
    expect(s.east).toMatchObject({ signedIn: true, username: bob(b).username });
  });

  it('AUTH-PORTAL-FROM-CONFIG / STORE-KEYCHAIN-FIRST: a config.json holding a clientSecret is refused: every tool says what to fix, no crash, no secret echoed', async () => {
    const dir = tempConfigDir();
    const canary = 'canary-secret-7f3a9c1e55';
    let broken: SpawnedServer | undefined;
    try {
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({
          profiles: {
            east: { portalUrl: b.info.portalUrl, clientId: b.info.clientId, clientSecret: canary },
          },
        }),
      );
      broken = await spawnServer({ ARCGIS_CONFIG_DIR: dir, ARCGIS_TOKEN_STORE: 'memory' });
      const { tools } = await broken.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['arcgis_whoami', 'arcgis_query']));
      for (const name of ['arcgis_whoami', 'arcgis_query', 'arcgis_auth_url']) {
        const r = await broken.call(name, name === 'arcgis_query' ? { url: b.info.services.private } : {});
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/^CONFIG_INVALID: .*must not hold secrets/);
        expect(textOf(r)).toMatch(/config\.json/);
        expect(textOf(r)).toMatch(/restart/i);
        expect(textOf(r)).not.toContain(canary);
      }
      expect(broken.stderr()).toMatch(/must not hold secrets/);
      expect(broken.stderr()).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
      expect(broken.stderr()).not.toContain(canary);
      for (const line of broken.stdoutLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' }); // SEC-STDOUT
    } finally {
      await broken?.close();
      removeDir(dir);
    }
  });
});
