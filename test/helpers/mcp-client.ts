import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built server, spawned for real over stdio by the SDK's own client (brief: "real parts"). */
export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(SERVER_ENTRY)) {
    throw new Error(`${SERVER_ENTRY} is missing: run "npm run build" first (npm test does it).`);
  }
}

export interface SpawnedServer {
  client: Client;
  transport: StdioClientTransport;
  /** Every byte the server wrote to stderr. */
  stderr: () => string;
  /** Every raw stdout line, captured by a tap on the transport (SEC-STDOUT), from the first byte. */
  stdoutLines: string[];
  /** Every raw stdout byte (as text), including a last line without a newline. */
  stdoutRaw: () => string;
  /** Resolves once stderr matches `pattern`; rejects after `timeoutMs` with what stderr held. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface SpawnOptions {
  /** Working directory of the server (where it reads `.env`); default ARCGIS_CONFIG_DIR or the test's cwd. */
  cwd?: string;
}

/**
 * Spawns `node dist/index.js` with exactly the environment given (StdioClientTransport passes only
 * HOME, PATH, ... by default, environment.md), plus what a keychain needs.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<SpawnedServer> {
  assertBuilt();
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    ...(process.env.DBUS_SESSION_BUS_ADDRESS
      ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
      : {}),
    ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}),
    ARCGIS_LOG_LEVEL: 'debug',
    ...env,
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY],
    env: childEnv,
    stderr: 'pipe',
    cwd: options.cwd ?? env.ARCGIS_CONFIG_DIR ?? process.cwd(),
  });
  let stderr = '';
  const stderrWaiters = new Set<() => void>();
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    for (const w of [...stderrWaiters]) w();
  });
  const stdoutLines: string[] = [];
  let stdoutRaw = '';
  // Tap the child's stdout from its first byte: the transport spawns the child synchronously
  // inside start(), so a listener added right after that call sees the initialize response too.
  const start = transport.start.bind(transport);
  transport.start = async () => {
    const started = start();
    const child = (transport as unknown as { _process?: { stdout?: NodeJS.ReadableStream } })._process;
    let partial = '';
    child?.stdout?.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      stdoutRaw += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      stdoutLines.push(...lines.filter((l) => l.length > 0));
    });
    await started;
  };
  const client = new Client({ name: 'arcgis-mcp-tests', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    stdoutLines,
    stdoutRaw: () => stdoutRaw,
    waitForStderr: (pattern, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stderr)) return;
          clearTimeout(timer);
          stderrWaiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          stderrWaiters.delete(check);
          reject(new Error(`stderr did not match ${String(pattern)} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        stderrWaiters.add(check);
        check();
      }),
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}
