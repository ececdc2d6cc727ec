import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInLikeABrowser } from '../../src/cli/scripted-browser.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import {
  accountOf,
  alice,
  deleteStored,
  readStored,
  removeDir,
  serverEnv,
  tempConfigDir,
} from '../helpers/e2e-kit.js';
import { submitLocalSignInForm } from '../helpers/local-sign-in-page.js';
import { assertBuilt, SERVER_ENTRY, spawnServer, textOf } from '../helpers/mcp-client.js';
import { tapIssuedSecrets, type IssuedSecrets } from '../helpers/sandbox-secrets.js';

/**
 * The human command line (`arcgis-mcp status | login | logout | token | doctor`) and the Python
 * helper, as real processes against an in-process sandbox. They share the MCP server's
 * configuration and secret-store entry: a sign-in made at the terminal is the server's sign-in.
 */
const PYTHON_DIR = fileURLToPath(new URL('../../python', import.meta.url));
const python3 = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0 ? 'python3' : null;
if (!python3) console.warn('[cli e2e] Python helper tests skipped: python3 is not on PATH');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process with stdin piped and stderr collected as it comes. */
interface Live {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<Run>;
}

function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    ...(process.env.DBUS_SESSION_BUS_ADDRESS
      ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
      : {}),
    ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}),
  };
}

function startCli(args: string[], env: Record<string, string>, cwd: string): Live {
  const child = spawn(process.execPath, [SERVER_ENTRY, ...args], {
    env: { ...baseEnv(), ...env },
    cwd,
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    for (const w of [...waiters]) w();
  });
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code) => {
      for (const w of [...waiters]) w();
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    child,
    stderr: () => stderr,
    done,
    waitForStderr: (pattern, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(stderr);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`exited ${child.exitCode} before ${pattern}; stderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; stderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

async function runCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  input?: string,
): Promise<Run> {
  const live = startCli(args, env, cwd);
  live.child.stdin.end(input ?? '');
  return live.done;
}

/**
 * Runs a Python snippet asynchronously: the sandbox lives in this process, so a synchronous spawn
 * would block the very event loop that has to answer the helper's requests.
 */
function runPython(script: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(python3!, ['-c', script, ...args], {
      // No __pycache__ left in python/.
      env: { ...baseEnv(), PYTHONDONTWRITEBYTECODE: '1', ...env },
      cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function queryWithToken(
  layerUrl: string,
  token: string,
): Promise<{ features?: unknown[]; error?: unknown }> {
  const res = await fetch(`${layerUrl}/query`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-esri-authorization': `Bearer ${token}`,
    },
    body: new URLSearchParams({ where: '1=1', outFields: '*', f: 'json' }).toString(),
  });
  return (await res.json()) as { features?: unknown[]; error?: unknown };
}

const LINK = /(http:\/\/127\.0\.0\.1:\d+\/\S*oauth2\/authorize\S+)/;
const PAGE_LINK = /(http:\/\/127\.0\.0\.1:\d+\/signin\/[A-Za-z0-9_-]+)/;

describe('e2e: the human command line', () => {
  let sandbox: RunningSandbox;
  let issued: IssuedSecrets;
  let configDir: string;
  let env: Record<string, string>;
  /** Every stdout and stderr byte of every CLI run, scanned for secrets at the end. */
  const transcript: string[] = [];
  const cli = async (args: string[], extra: Record<string, string> = {}, input?: string) => {
    const r = await runCli(args, { ...env, ...extra }, configDir, input);
    transcript.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    assertBuilt();
    issued = tapIssuedSecrets();
    sandbox = await startSandbox();
    configDir = tempConfigDir('arcgis-mcp-cli-');
    env = serverEnv(sandbox, configDir);
  });

  afterAll(async () => {
    issued?.stop();
    if (configDir && sandbox) await deleteStored(configDir, accountOf(sandbox));
    await sandbox?.close();
    removeDir(configDir);
  });

  it('status exits 1 when nobody is signed in, and names the next step', async () => {
    const r = await cli(['status']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Not signed in/);
    expect(r.stdout).toContain('run `arcgis-mcp login`');
    const json = await cli(['status', '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { profiles: Array<{ signedIn: boolean; nextStep: string }> };
    expect(parsed.profiles[0]).toMatchObject({ signedIn: false });
    expect(parsed.profiles[0]?.nextStep).toContain('arcgis-mcp login');
  });

  it('token exits 1 with "not signed in: run `arcgis-mcp login`" and prints nothing on stdout', async () => {
    const r = await cli(['token']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/not signed in.*run `arcgis-mcp login`/);
  });

  it('login (out-of-band): the link on stderr, the code on stdin, "Signed in as alice"; a server already running picks it up', async () => {
    const running = await spawnServer(env);
    const before = await running.call('arcgis_whoami');
    expect(before.structuredContent).toMatchObject({ profiles: [{ signedIn: false }] });
    const live = startCli(['login', '--no-open'], env, configDir);
    const [, link] = await live.waitForStderr(LINK);
    await live.waitForStderr(/Paste the code: $/);
    const { code } = await signInLikeABrowser(link!, alice(sandbox).username, alice(sandbox).password);
    expect(code, 'the sandbox showed no code').toBeTruthy();
    live.child.stdin.end(`${code}\n`);
    const r = await live.done;
    transcript.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Signed in as alice\b/);
    expect(await readStored(configDir, accountOf(sandbox))).toMatchObject({ username: 'alice' });
    try {
      // The server started before the sign-in: it finds the session in the shared store.
      const q = await running.call('arcgis_query', {
        url: sandbox.info.services.private,
        returnCountOnly: true,
      });
      expect(q.isError, textOf(q)).toBeFalsy();
      expect(q.structuredContent).toMatchObject({ accessedAs: 'alice' });
    } finally {
      await running.close();
    }
  });

  it('SEC-NO-SECRETS-IN-RESULTS: status shows alice, the store and expiry, and never a token', async () => {
    const r = await cli(['status']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Signed in as alice/);
    expect(r.stdout).toMatch(/Stored in: /);
    expect(r.stdout).toMatch(/Refresh token: expires \d{4}-/);
    const json = await cli(['status', '--json']);
    expect(json.code).toBe(0);
    const view = (JSON.parse(json.stdout) as { profiles: Array<Record<string, unknown>> }).profiles[0];
    expect(view).toMatchObject({ signedIn: true, username: 'alice', credentialKind: 'user', problem: null });
    expect(view?.refreshTokenStoredIn).toBeTruthy();
    const stored = await readStored(configDir, accountOf(sandbox));
    for (const out of [r.stdout, r.stderr, json.stdout, json.stderr]) {
      expect(out).not.toContain(stored!.refreshToken);
      for (const secret of issued.all()) expect(out).not.toContain(secret);
    }
  });

  it('the shared sign-in: an MCP server started with the same environment is alice and reads the private layer', async () => {
    const server = await spawnServer(env);
    try {
      const who = await server.call('arcgis_whoami');
      expect(who.isError, textOf(who)).toBeFalsy();
      expect(who.structuredContent).toMatchObject({ profiles: [{ signedIn: true, username: 'alice' }] });
      const q = await server.call('arcgis_query', { url: sandbox.info.services.private, limit: 5 });
      expect(q.isError, textOf(q)).toBeFalsy();
    } finally {
      await server.close();
    }
  });

  it('SEC-NO-SECRETS-IN-RESULTS: token prints one access token the portal accepts, never the refresh token', async () => {
    const r = await cli(['token']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[^\s]+\n$/);
    const token = r.stdout.trim();
    expect(issued.accessTokens.has(token)).toBe(true);
    const stored = await readStored(configDir, accountOf(sandbox));
    expect(stored).not.toBeNull();
    expect(r.stdout + r.stderr).not.toContain(stored!.refreshToken);
    for (const rt of issued.refreshTokens) expect(r.stdout + r.stderr).not.toContain(rt);
    const body = await queryWithToken(sandbox.info.services.private, token);
    expect(body.error).toBeUndefined();
    expect(body.features?.length).toBeGreaterThan(0);
  });

  it.skipIf(!python3)(
    'python helper: query() returns rows of the private layer through `arcgis-mcp token`',
    async () => {
      const script = [
        'import json, sys',
        `sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})`,
        'import arcgis_mcp',
        'rows = arcgis_mcp.query(sys.argv[1], limit=3)',
        'print(json.dumps(rows))',
      ].join('\n');
      const r = await runPython(
        script,
        [sandbox.info.services.private],
        { ...env, ARCGIS_MCP_BIN: SERVER_ENTRY },
        configDir,
      );
      transcript.push(r.stdout, r.stderr);
      expect(r.code, r.stderr).toBe(0);
      const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(rows.length).toBe(3);
      expect(Object.keys(rows[0]!).length).toBeGreaterThan(0);
    },
  );

  it.skipIf(!python3)('python helper: an ArcGIS error envelope raises ArcGisMcpError', async () => {
    const script = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})`,
      'import arcgis_mcp',
      'try:',
      '    arcgis_mcp.query(sys.argv[1], where="NO_SUCH_FIELD = 1")',
      'except arcgis_mcp.ArcGisMcpError as e:',
      '    print("raised", e)',
    ].join('\n');
    const r = await runPython(
      script,
      [sandbox.info.services.private],
      { ...env, ARCGIS_MCP_BIN: SERVER_ENTRY },
      configDir,
    );
    transcript.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^raised ArcGIS error 400/);
  });

  it("login --way sign-in-page waits, and finishes when the page's password form is posted", async () => {
    const live = startCli(['login', '--way', 'sign-in-page', '--no-open'], env, configDir);
    const [, link] = await live.waitForStderr(PAGE_LINK);
    await live.waitForStderr(/Waiting for the sign-in/);
    expect(live.child.exitCode).toBeNull();
    const posted = await submitLocalSignInForm(link!, 'password', {
      username: alice(sandbox).username,
      password: alice(sandbox).password,
    });
    expect(posted.status).toBe(200);
    const r = await live.done;
    transcript.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Signed in as alice\b/);
    // A password sign-in has no refresh token: the CLI says it was not saved.
    expect(r.stderr).toMatch(/nothing was saved/);
  });

  it('login --way sign-in-page: Ctrl-C cancels the wait (exit 130)', async () => {
    const live = startCli(['login', '--way', 'sign-in-page', '--no-open'], env, configDir);
    await live.waitForStderr(/Waiting for the sign-in/);
    live.child.kill('SIGINT');
    const r = await live.done;
    transcript.push(r.stdout, r.stderr);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/cancelled/i);
  });

  it('login with a loopback redirect finishes when the browser comes back, nothing pasted', async () => {
    const loopback = { ARCGIS_REDIRECT_URI: 'http://127.0.0.1/callback' };
    const live = startCli(['login', '--no-open'], { ...env, ...loopback }, configDir);
    const [, link] = await live.waitForStderr(LINK);
    const { location } = await signInLikeABrowser(link!, alice(sandbox).username, alice(sandbox).password);
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    await fetch(location!);
    const r = await live.done;
    transcript.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Signed in as alice\b/);
  });

  it('STORE-EXPLICIT-FALLBACK: logout revokes and deletes the stored copy; status then exits 1', async () => {
    const before = await readStored(configDir, accountOf(sandbox));
    expect(before).not.toBeNull();
    const r = await cli(['logout']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Signed out of .* as alice: revoked at the portal; removed from /);
    expect(await readStored(configDir, accountOf(sandbox))).toBeNull();
    const status = await cli(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/Not signed in/);
    const token = await cli(['token']);
    expect(token.code).toBe(1);
  });

  it.skipIf(!python3)("python helper: get_token raises with the CLI's message when signed out", async () => {
    const script = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})`,
      'import arcgis_mcp',
      'try:',
      '    arcgis_mcp.get_token()',
      'except arcgis_mcp.ArcGisMcpError as e:',
      '    print("raised", e)',
    ].join('\n');
    const r = await runPython(script, [], { ...env, ARCGIS_MCP_BIN: SERVER_ENTRY }, configDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^raised .*not signed in.*arcgis-mcp login/);
  });

  it('doctor passes against the sandbox, one ✓ line per check', async () => {
    const r = await cli(['doctor']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ Node\.js v\d+/m);
    expect(r.stdout).toMatch(/^✓ configuration loads: default/m);
    expect(r.stdout).toMatch(/^✓ secret store: /m);
    expect(r.stdout).toMatch(/^✓ \[default\] client id set/m);
    expect(r.stdout).toMatch(/^✓ \[default\] redirect URI: out-of-band/m);
    expect(r.stdout).toMatch(/^✓ \[default\] portal reachable: .* answered in \d+ ms/m);
    expect(r.stdout).not.toMatch(/^✗/m);
  });

  it('doctor exits 1 with an unreachable portal and names the failing check with its fix', async () => {
    const port = await closedPort();
    const r = await cli(['doctor'], { ARCGIS_PORTAL_URL: `http://127.0.0.1:${port}/portal` });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ \[default\] portal not reachable: .*— fix: check ARCGIS_PORTAL_URL/m);
  });

  it('doctor exits 1 on a broken configuration, naming it', async () => {
    const r = await cli(['doctor'], { ARCGIS_TOKEN_STORE: 'floppy' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ configuration does not load: ARCGIS_TOKEN_STORE/m);
  });

  it('bad usage exits 2 with the usage', async () => {
    const r = await cli(['status', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage:/);
  });

  it('SEC-NO-SECRETS-IN-RESULTS: no CLI run but `token` printed a token, code or refresh token', () => {
    const secrets = issued.all();
    expect(secrets.length).toBeGreaterThan(0);
    const tokenLines = new Set(transcript.filter((t) => /^[^\s]+\n$/.test(t)).map((t) => t.trim()));
    for (const out of transcript) {
      if (tokenLines.has(out.trim())) continue; // `token`'s own single line
      for (const s of secrets) expect(out).not.toContain(s);
    }
  });
});
