import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInLikeABrowser } from '../../src/cli/scripted-browser.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { submitLocalSignInForm } from '../helpers/local-sign-in-page.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';
import {
  leakedVerifiers,
  mintAppToken,
  tapIssuedSecrets,
  type IssuedSecrets,
} from '../helpers/sandbox-secrets.js';

/**
 * SEC-NO-SECRETS-IN-RESULTS and SEC-REDACT, end to end: unique canary secrets seeded through every
 * way a secret enters the server (client secret, password, a token in the environment, a token and
 * a password on the local sign-in page), plus every token, refresh token and code the in-process
 * sandbox issued during the run (tapped from its TokenStore). Every tool is driven through success,
 * ArcGIS errors (498, 499, 403, 400, 5xx, HTML), network errors, timeouts and bad input, with
 * ARCGIS_LOG_LEVEL=debug; then every stdout and stderr byte, every tool result (content,
 * structuredContent, _meta) and every local page is scanned. PKCE verifiers are never handed to
 * the test: any 43–128 character run whose S256 hash is a challenge the sandbox saw counts as a leak.
 */
const canary = (label: string) => `canary${label}${randomBytes(16).toString('hex')}`;

describe('e2e: no secret ever leaves the server (canaries, debug logging)', () => {
  let sandbox: RunningSandbox;
  let issued: IssuedSecrets;
  let configDir: string;
  let closedPort: number;
  const servers: SpawnedServer[] = [];
  const results: Array<{ where: string; text: string }> = [];
  const pages: Array<{ where: string; text: string }> = [];
  const canaries = {
    clientSecret: canary('ClientSecret'),
    password: canary('Password'),
    envToken: canary('EnvToken'),
    envTokenAlone: canary('EnvTokenAlone'),
    pageToken: canary('PageToken'),
    pagePassword: canary('PagePassword'),
  };
  const user = (name: string) => sandbox.info.users.find((u) => u.username === name)!;

  beforeAll(async () => {
    issued = tapIssuedSecrets();
    sandbox = await startSandbox();
    configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-canary-'));
    closedPort = await freePortThenClose();
  });

  afterAll(async () => {
    issued?.stop();
    await Promise.all(servers.map((s) => s.close()));
    await sandbox?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  async function start(label: string, env: Record<string, string>): Promise<SpawnedServer> {
    const s = await spawnServer({
      ARCGIS_TOKEN_STORE: 'memory',
      // One config dir per server: each starts with nothing remembered (services.json and the like).
      ARCGIS_CONFIG_DIR: mkdtempSync(join(configDir, `${label}-`)),
      ARCGIS_LOG_LEVEL: 'debug',
      ...env,
    });
    servers.push(s);
    (s as SpawnedServer & { label?: string }).label = label;
    return s;
  }

  /** Calls a tool and keeps the whole result (or the protocol error) for the scan. */
  async function call(
    server: SpawnedServer,
    name: string,
    args: Record<string, unknown> = {},
  ): Promise<CallToolResult> {
    try {
      const r = await server.call(name, args);
      results.push({ where: `${name} ${JSON.stringify(args)}`, text: JSON.stringify(r) });
      return r;
    } catch (e) {
      const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      results.push({ where: `${name} (protocol error)`, text });
      return { content: [{ type: 'text', text }], isError: true };
    }
  }

  const sandboxUrl = () => ({
    ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
    ARCGIS_CLIENT_ID: sandbox.info.clientId,
  });
  const admin = (path: string) => fetch(`${sandbox.info.adminUrl}${path}`, { method: 'POST' });
  const deadLayer = () => `http://127.0.0.1:${closedPort}/x/arcgis/rest/services/Nothing/FeatureServer/0`;

  /** The local sign-in page, driven like a browser without JavaScript (GET, then a same-origin form POST). */
  async function submitOnPage(
    server: SpawnedServer,
    form: 'token' | 'password',
    fields: Record<string, string>,
    /** Runs (typically arcgis_exchange_code waiting) while the form is submitted; awaited before returning. */
    meanwhile?: () => Promise<void>,
  ) {
    const r = await call(server, 'arcgis_auth_url', { way: 'sign-in-page' });
    const waiting = meanwhile?.();
    const link = (r.structuredContent as { signInPageUrl: string }).signInPageUrl;
    const sub = await submitLocalSignInForm(link, form, fields);
    pages.push({ where: 'sign-in page', text: sub.pageHtml });
    pages.push({ where: `sign-in page ${form} answer (${sub.status})`, text: sub.html });
    await waiting;
    return sub;
  }

  it('drives every tool through success and failure with canary credentials', async () => {
    // Server 1: every secret from the environment is a canary, and wrong.
    const a = await start('canaries', {
      ...sandboxUrl(),
      ARCGIS_CLIENT_SECRET: canaries.clientSecret,
      ARCGIS_USERNAME: 'alice',
      ARCGIS_PASSWORD: canaries.password,
      ARCGIS_TOKEN: canaries.envToken,
    });
    const { tools } = await a.client.listTools();
    results.push({ where: 'tools/list', text: JSON.stringify(tools) });
    const who = await call(a, 'arcgis_whoami');
    expect(
      (who.structuredContent as { profiles: Array<{ problem: string | null }> }).profiles[0]!.problem,
    ).toBeTruthy();
    // 499 anonymously, then refused: only an (unusable) app credential exists.
    expect(textOf(await call(a, 'arcgis_query', { url: sandbox.info.services.private }))).toMatch(
      /ARCGIS_APP_TOKEN_REFUSED/,
    );
    expect(
      (await call(a, 'arcgis_query', { url: sandbox.info.services.public, limit: 2 })).isError,
    ).toBeFalsy();
    // 400: a bad where clause.
    expect(
      (await call(a, 'arcgis_query', { url: sandbox.info.services.public, where: 'NOPE === ((' })).isError,
    ).toBe(true);
    // Bad input.
    for (const url of [
      'not a url',
      'ftp://127.0.0.1/x',
      sandbox.info.services.publicService,
      `${sandbox.info.portalUrl}/home`,
    ]) {
      expect((await call(a, 'arcgis_query', { url })).isError, url).toBe(true);
    }
    expect(
      (await call(a, 'arcgis_query', { url: sandbox.info.services.public, profile: 'nope' })).isError,
    ).toBe(true);
    expect((await call(a, 'arcgis_query', { url: sandbox.info.services.public, limit: -1 })).isError).toBe(
      true,
    );
    // Sign-in errors: a malformed code, an unknown code, a denied sign-in.
    await call(a, 'arcgis_auth_url');
    expect((await call(a, 'arcgis_exchange_code', { code: 'x' })).isError).toBe(true);
    expect((await call(a, 'arcgis_exchange_code', { code: canary('UnknownCode') })).isError).toBe(true);
    await call(a, 'arcgis_auth_url');
    expect(
      (await call(a, 'arcgis_exchange_code', { code: 'urn:ietf:wg:oauth:2.0:oob?error=access_denied' }))
        .isError,
    ).toBe(true);
    // The local page: a canary token (498 at the portal) and a canary password (generateToken refuses).
    const t = await submitOnPage(a, 'token', { token: canaries.pageToken });
    expect(t.status).toBe(400);
    const p = await submitOnPage(a, 'password', { username: 'alice', password: canaries.pagePassword });
    expect(p.status).toBe(400);
    expect((await call(a, 'arcgis_exchange_code', { waitSeconds: 1 })).isError).toBe(true);
    await call(a, 'arcgis_logout');

    // Server 2: a canary token alone in ARCGIS_TOKEN (classified, refused by the portal: 498).
    const b = await start('env-token', { ...sandboxUrl(), ARCGIS_TOKEN: canaries.envTokenAlone });
    await call(b, 'arcgis_whoami');
    expect(textOf(await call(b, 'arcgis_query', { url: sandbox.info.services.private }))).toMatch(
      /ARCGIS_SIGN_IN_REQUIRED/,
    );

    // Server 3: a portal on a closed port (network errors everywhere).
    const d = await start('unreachable', {
      ARCGIS_PORTAL_URL: `http://127.0.0.1:${closedPort}/portal`,
      ARCGIS_CLIENT_ID: sandbox.info.clientId,
      ARCGIS_USERNAME: 'bob',
      ARCGIS_PASSWORD: user('bob').password,
    });
    await call(d, 'arcgis_whoami');
    await call(d, 'arcgis_auth_url');
    expect((await call(d, 'arcgis_exchange_code', { code: canary('Code') })).isError).toBe(true);
    expect((await call(d, 'arcgis_query', { url: deadLayer() })).isError).toBe(true);
    await call(d, 'arcgis_logout');
  });

  it('drives every tool through success and failure with real sandbox credentials', async () => {
    const c = await start('real', {
      ...sandboxUrl(),
      ARCGIS_CLIENT_SECRET: sandbox.info.clientSecret,
      ARCGIS_USERNAME: 'bob',
      ARCGIS_PASSWORD: user('bob').password,
      ARCGIS_REQUEST_TIMEOUT_MS: '1500',
    });
    const who = await call(c, 'arcgis_whoami');
    expect(who.structuredContent).toMatchObject({ profiles: [{ signedIn: true, username: 'bob' }] });
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.private, limit: 3 })).isError,
    ).toBeFalsy();

    // OAuth (out-of-band) as alice: success, then a replayed code (refused before any token request).
    const oob = async () => {
      const s = await call(c, 'arcgis_auth_url');
      const { authorizeUrl } = s.structuredContent as { authorizeUrl: string };
      // The sandbox's OOB page shows the code by design: it is ArcGIS's page, not the server's output.
      const { code } = await signInLikeABrowser(authorizeUrl, 'alice', user('alice').password);
      return code!;
    };
    const code = await oob();
    expect((await call(c, 'arcgis_exchange_code', { code })).isError).toBeFalsy();
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.table, limit: 2 })).isError,
    ).toBeFalsy();
    expect((await call(c, 'arcgis_exchange_code', { code })).isError).toBe(true);
    // A code from another sign-in, pasted as the whole redirect address with a foreign state.
    expect(
      (
        await call(c, 'arcgis_exchange_code', {
          code: `urn:ietf:wg:oauth:2.0:oob?code=${await oob()}&state=${canary('State')}`,
        })
      ).isError,
    ).toBe(true);
    // 498 → reactive refresh → success.
    expect(await admin('/expire-access-tokens').then((r) => r.ok)).toBe(true);
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.private, returnCountOnly: true })).isError,
    ).toBeFalsy();
    await call(c, 'arcgis_whoami');
    // 498 with every refresh token revoked → session expired.
    await admin('/revoke-all');
    await admin('/expire-access-tokens');
    expect((await call(c, 'arcgis_query', { url: sandbox.info.services.private })).isError).toBe(true);
    await call(c, 'arcgis_whoami');

    // 403 at community/self: an app token pasted on the page (classified as app, then refused).
    const appToken = await mintAppToken(sandbox);
    const refused = async () => {
      const r = await call(c, 'arcgis_exchange_code', { waitSeconds: 20 });
      expect(textOf(r)).toMatch(/^ARCGIS_APP_TOKEN_REFUSED/);
    };
    // The exchange starts once the page exists, and waits for the submission below.
    const pageWithApp = submitOnPage(c, 'token', { token: appToken }, refused);
    expect((await pageWithApp).status).toBe(200);
    // A password sign-in on the page that works.
    const signedIn = async () => {
      const r = await call(c, 'arcgis_exchange_code', { waitSeconds: 20 });
      expect(r.isError, textOf(r)).toBeFalsy();
    };
    const ok = await submitOnPage(
      c,
      'password',
      { username: 'alice', password: user('alice').password },
      signedIn,
    );
    expect(ok.status).toBe(200);
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.private, limit: 1 })).isError,
    ).toBeFalsy();

    // 5xx (retried, then reported), an HTML answer, dropped connections, a timeout, a closed port.
    sandbox.faults.serverErrorNext = 4;
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.private, where: '1=1 AND 2=2' })).isError,
    ).toBe(true);
    sandbox.faults.serverErrorNext = 0;
    sandbox.faults.htmlNext = 1;
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.private, where: '3=3' })).isError,
    ).toBe(true);
    sandbox.faults.dropNext = 4;
    expect(
      (await call(c, 'arcgis_query', { url: sandbox.info.services.private, where: '4=4' })).isError,
    ).toBe(true);
    sandbox.faults.dropNext = 0;
    sandbox.faults.latencyMs = 2500;
    const slow = await call(c, 'arcgis_query', { url: sandbox.info.services.private, where: '5=5' });
    sandbox.faults.latencyMs = 0;
    expect(textOf(slow)).toMatch(/TIMEOUT/);
    expect((await call(c, 'arcgis_query', { url: deadLayer() })).isError).toBe(true);
    // Out of range input is refused before anything is sent.
    expect((await call(c, 'arcgis_exchange_code', { waitSeconds: 100_000 })).isError).toBe(true);

    const out = await call(c, 'arcgis_logout');
    expect(out.isError, textOf(out)).toBeFalsy();
  }, 60_000);

  it('SEC-NO-SECRETS-IN-RESULTS: no tool result holds a token, refresh token, code, verifier, secret or password', () => {
    const secrets = secretList();
    expect(issued.accessTokens.size).toBeGreaterThanOrEqual(5);
    expect(issued.refreshTokens.size).toBeGreaterThanOrEqual(1);
    expect(issued.codes.size).toBeGreaterThanOrEqual(2);
    expect(issued.codeChallenges.size).toBe(issued.codes.size);
    expect(results.length).toBeGreaterThan(40);
    // The scanner itself can fail: a planted secret and the RFC 7636 appendix B verifier are found.
    expect(
      findLeaks([{ where: 'self-check', text: `"x":"${secrets.at(-1)!.value}"` }], secrets),
    ).toHaveLength(1);
    expect(
      leakedVerifiers(
        '{"v":"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}',
        new Set(['E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM']),
      ),
    ).toEqual(['dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk']);
    const leaks = findLeaks([...results, ...pages], secrets);
    expect(leaks).toEqual([]);
  });

  it('SEC-REDACT: no stdout or stderr byte of any server holds a secret, even at debug level', () => {
    const secrets = secretList();
    const streams = servers.flatMap((s) => {
      const label = (s as SpawnedServer & { label?: string }).label ?? '?';
      return [
        { where: `${label} stdout`, text: s.stdoutRaw() },
        { where: `${label} stderr`, text: s.stderr() },
      ];
    });
    // The scan saw real traffic and real debug logging.
    expect(streams.every((s) => s.text.length > 0)).toBe(true);
    expect(servers.every((s) => / arcgis-mcp debug /.test(s.stderr()))).toBe(true);
    expect(findLeaks(streams, secrets)).toEqual([]);
  });

  it('STORE-KEYCHAIN-FIRST: no file the servers wrote in their config dirs holds a secret (memory store)', () => {
    const files = readdirSync(configDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    const leaks = findLeaks(
      files.map((f) => ({ where: f, text: readFileSync(f, 'utf8') })),
      secretList(),
    );
    expect(leaks).toEqual([]);
  });

  function secretList(): Array<{ name: string; value: string }> {
    return [
      ...Object.entries(canaries).map(([name, value]) => ({ name: `canary ${name}`, value })),
      { name: 'sandbox client secret', value: sandbox.info.clientSecret },
      ...sandbox.info.users.map((u) => ({ name: `password of ${u.username}`, value: u.password })),
      ...[...issued.accessTokens].map((value) => ({ name: 'access token', value })),
      ...[...issued.refreshTokens].map((value) => ({ name: 'refresh token', value })),
      ...[...issued.codes].map((value) => ({ name: 'authorization code', value })),
    ];
  }

  function findLeaks(
    sources: Array<{ where: string; text: string }>,
    secrets: Array<{ name: string; value: string }>,
  ): string[] {
    const leaks: string[] = [];
    for (const source of sources) {
      for (const secret of secrets) {
        // A token ending in "." may be printed without it: look for the body too.
        const body = secret.value.replace(/\.$/, '');
        if (source.text.includes(body)) leaks.push(`${secret.name} in ${source.where}`);
      }
      for (const v of leakedVerifiers(source.text, issued.codeChallenges)) {
        leaks.push(`PKCE verifier ${v.slice(0, 6)}… in ${source.where}`);
      }
    }
    return leaks;
  }
});

async function freePortThenClose(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
