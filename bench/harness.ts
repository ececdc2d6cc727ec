import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SecretStoreKind } from '../src/auth/store/secret-store.js';
import { signInLikeABrowser } from '../src/cli/scripted-browser.js';
import type { RecordedRequest, RunningSandbox } from '../src/sandbox/sandbox.js';

/**
 * Drives the BUILT server (`dist/index.js`) over stdio with the MCP SDK's own client, the way
 * Claude Desktop does, against an in-process sandbox.
 */
export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run "npm run build" first.`);
}

/** A tool call that came back as an error: the bench stops and exits non-zero. */
export class BenchCallError extends Error {}

export interface BenchServer {
  client: Client;
  /** The last few KB the server wrote to stderr (shown when a call fails). */
  stderrTail(): string;
  /** Calls a tool; throws BenchCallError on an isError result. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface SpawnTimings {
  /** spawn → initialize answered (client.connect resolves after the initialized notification). */
  initializeMs: number;
  /** spawn → tools/list answered. */
  toolsListMs: number;
}

export interface ServerEnv {
  portalUrl: string;
  clientId: string;
  store: SecretStoreKind;
  configDir: string;
}

function childEnv(e: ServerEnv): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    // StdioClientTransport passes only a few variables by default (environment.md): the keychain
    // needs the session bus.
    ...(process.env.DBUS_SESSION_BUS_ADDRESS
      ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
      : {}),
    ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}),
    ARCGIS_PORTAL_URL: e.portalUrl,
    ARCGIS_CLIENT_ID: e.clientId,
    ARCGIS_TOKEN_STORE: e.store,
    ARCGIS_CONFIG_DIR: e.configDir,
    ARCGIS_LOG_LEVEL: 'warn',
  };
}

/** Spawns the server and completes initialize + tools/list, timing both from just before spawn. */
export async function spawnServer(e: ServerEnv): Promise<{ server: BenchServer; timings: SpawnTimings }> {
  const t0 = performance.now();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER_ENTRY],
    env: childEnv(e),
    stderr: 'pipe',
    // The config dir as working directory: a stray .env in the repo must not change the server.
    cwd: e.configDir,
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  const client = new Client({ name: 'arcgis-mcp-bench', version: '0.1.0' });
  await client.connect(transport);
  const t1 = performance.now();
  const tools = await client.listTools();
  const t2 = performance.now();
  if (!tools.tools.some((t) => t.name === 'arcgis_query'))
    throw new BenchCallError('tools/list has no arcgis_query');
  const server: BenchServer = {
    client,
    stderrTail: () => stderr,
    call: async (name, args = {}) => {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      if (r.isError) {
        const text = r.content
          .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
          .map((c) => c.text)
          .join('\n');
        throw new BenchCallError(
          `${name} ${JSON.stringify(args)} failed: ${text}\n--- server stderr (tail) ---\n${stderr}`,
        );
      }
      return r;
    },
    close: () => client.close(),
  };
  return { server, timings: { initializeMs: t1 - t0, toolsListMs: t2 - t0 } };
}

/** OOB sign-in the way the demo does it: auth_url → the sandbox's sign-in form → exchange_code. */
export async function signIn(server: BenchServer, username: string, password: string): Promise<void> {
  const start = await server.call('arcgis_auth_url');
  const authorizeUrl = (start.structuredContent as { authorizeUrl?: string | null } | undefined)
    ?.authorizeUrl;
  if (!authorizeUrl) throw new BenchCallError('arcgis_auth_url returned no authorizeUrl');
  const { code } = await signInLikeABrowser(authorizeUrl, username, password);
  if (!code) throw new BenchCallError('the sandbox sign-in page showed no code');
  await server.call('arcgis_exchange_code', { code });
}

/** The sandbox requests logged while `fn` ran (the log is append-only during the bench). */
export async function withRequests<T>(
  sandbox: RunningSandbox,
  fn: () => Promise<T>,
): Promise<{ value: T; ms: number; requests: RecordedRequest[] }> {
  const from = sandbox.requests.length;
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  return { value, ms, requests: sandbox.requests.slice(from) };
}

/** grant_type=refresh_token at the token endpoint: `refresh_token` in the body, no `redirect_uri`
 * (exchange_refresh_token, the rotation, also sends redirect_uri). The log keeps keys, not values. */
export function isRefreshGrant(r: RecordedRequest): boolean {
  return (
    r.method === 'POST' &&
    r.path.endsWith('/oauth2/token') &&
    r.bodyKeys.includes('refresh_token') &&
    !r.bodyKeys.includes('redirect_uri')
  );
}

/** A short description of the round trips of one call, e.g. "layer(none) → layer(user) → query(user)". */
export function describeTrips(requests: readonly RecordedRequest[]): string {
  return requests
    .map((r) => {
      const p = r.path;
      let what: string;
      if (p.endsWith('/oauth2/token'))
        what = isRefreshGrant(r) ? 'token(refresh_token)' : 'token(other grant)';
      else if (/\/query$/.test(p)) what = 'query';
      else if (/\/(FeatureServer|MapServer)\/\d+$/.test(p)) what = 'layer-info';
      else if (/\/(FeatureServer|MapServer)$/.test(p)) what = 'service-info';
      else what = p.replace(/^.*\/sharing\/rest\//, 'portal:');
      return r.tokenKind === 'none' ? `${what}[anon]` : `${what}[${r.tokenKind}]`;
    })
    .join(' → ');
}
