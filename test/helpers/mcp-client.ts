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
  /** Every raw stdout line, captured by a tap on the transport (SEC-STDOUT). */
  stdoutLines: string[];
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/**
 * Spawns `node dist/index.js` with exactly the environment given (StdioClientTransport passes only
 * HOME, PATH, ... by default, environment.md), plus what a keychain needs.
 */
export async function spawnServer(env: Record<string, string>): Promise<SpawnedServer> {
  assertBuilt();
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    ...(process.env.DBUS_SESSION_BUS_ADDRESS ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS } : {}),
    ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}),
    ARCGIS_LOG_LEVEL: 'debug',
    ...env,
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY],
    env: childEnv,
    stderr: 'pipe',
    cwd: env.ARCGIS_CONFIG_DIR ?? process.cwd(),
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const stdoutLines: string[] = [];
  const client = new Client({ name: 'arcgis-mcp-tests', version: '0.0.0' });
  await client.connect(transport);
  // Tap the child's stdout after connect: the transport has spawned the process by now.
  const child = (transport as unknown as { _process?: { stdout?: NodeJS.ReadableStream } })._process;
  let partial = '';
  child?.stdout?.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    stdoutLines.push(...lines.filter((l) => l.length > 0));
  });
  return {
    client,
    transport,
    stderr: () => stderr,
    stdoutLines,
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
