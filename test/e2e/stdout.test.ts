import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { SERVER_ENTRY, spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';

/**
 * SEC-STDOUT: stdout carries only JSON-RPC, from the first byte to the last, even with debug
 * logging, failing tools and bad input; and the server exits when its stdin closes (the SDK's
 * stdio transport does not do that by itself, environment.md).
 */
describe('e2e: stdout is JSON-RPC only', () => {
  let sandbox: RunningSandbox;
  let configDir: string;
  let server: SpawnedServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-stdout-'));
    env = {
      ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
      ARCGIS_CLIENT_ID: sandbox.info.clientId,
      ARCGIS_REDIRECT_URI: 'http://127.0.0.1/callback',
      ARCGIS_TOKEN_STORE: 'memory',
      ARCGIS_CONFIG_DIR: configDir,
      ARCGIS_LOG_LEVEL: 'debug',
      // Section D at start: the environment sign-in logs too (to stderr).
      ARCGIS_USERNAME: 'bob',
      ARCGIS_PASSWORD: sandbox.info.users.find((u) => u.username === 'bob')!.password,
    };
    server = await spawnServer(env);
  });

  afterAll(async () => {
    await server?.close();
    await sandbox?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('SEC-STDOUT: every stdout line of a busy session is a JSON-RPC 2.0 message', async () => {
    await server.client.listTools();
    const calls: Array<[string, Record<string, unknown>]> = [
      ['arcgis_whoami', {}],
      ['arcgis_query', { url: sandbox.info.services.public, limit: 3 }],
      ['arcgis_query', { url: sandbox.info.services.private, returnCountOnly: true }],
      ['arcgis_query', { url: 'not a url' }],
      ['arcgis_query', { url: sandbox.info.services.public, where: 'BROKEN ((' }],
      ['arcgis_query', { url: sandbox.info.services.privateService }],
      ['arcgis_auth_url', {}],
      ['arcgis_auth_url', { way: 'sign-in-page' }],
      ['arcgis_exchange_code', { code: 'not-a-real-code-123' }],
      ['arcgis_exchange_code', { waitSeconds: 1 }],
      ['arcgis_whoami', { profile: 'nope' }],
      ['arcgis_logout', {}],
    ];
    let errors = 0;
    for (const [name, args] of calls) {
      const r = await server.call(name, args);
      if (r.isError) errors += 1;
      expect(textOf(r).length, name).toBeGreaterThan(0);
    }
    expect(errors).toBeGreaterThanOrEqual(5);
    // Protocol-level failures too: an unknown tool and arguments that fail the schema.
    await server.call('arcgis_nope').catch(() => undefined);
    await server.call('arcgis_query', { url: 42 }).catch(() => undefined);
    await server.client.ping();

    // The tap saw the session from its first byte: the initialize response is line one.
    const lines = server.stdoutLines;
    const first = JSON.parse(lines[0]!) as { id: unknown; result?: { serverInfo?: { name?: string } } };
    expect(first.id).toBe(0);
    expect(first.result?.serverInfo?.name).toBe('arcgis-mcp');
    // One response per request: initialize, tools/list, the calls, the two bad ones, ping.
    const responses = lines.map((l) => JSON.parse(l) as { id?: unknown }).filter((m) => m.id !== undefined);
    expect(responses.length).toBe(1 + 1 + calls.length + 2 + 1);
    for (const line of lines) {
      const message = JSON.parse(line) as Record<string, unknown>;
      expect(message.jsonrpc, line.slice(0, 200)).toBe('2.0');
      expect('result' in message || 'error' in message || 'method' in message, line.slice(0, 200)).toBe(true);
    }
    // Nothing but complete lines: no partial write left without its newline.
    expect(server.stdoutRaw().endsWith('\n')).toBe(true);
    // The logs went to stderr instead.
    expect(server.stderr()).toMatch(/arcgis-mcp ready on stdio/);
    expect(server.stderr()).toMatch(/ arcgis-mcp debug /);
  });

  it('exits within 3 s when stdin closes, with exit code 0 and nothing on stdout', async () => {
    const child = spawn(process.execPath, [SERVER_ENTRY], {
      cwd: configDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    const ready = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
        if (stderr.includes('ready on stdio')) resolve();
      });
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      await Promise.race([ready, exited.then(() => Promise.reject(new Error(`exited early:\n${stderr}`)))]);
      const closedAt = Date.now();
      child.stdin.end();
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running 3 s after stdin closed:\n${stderr}`)), 3000).unref(),
      );
      const [code, signal] = await Promise.race([exited, timeout]);
      expect(Date.now() - closedAt).toBeLessThan(3000);
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stdout).toBe('');
      expect(stderr).toMatch(/shutting down/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
