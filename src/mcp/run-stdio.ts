import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createAppContext } from '../app-context.js';
import { loadConfig, loadEnv } from '../config.js';
import { isArcGisMcpError } from '../errors.js';
import { log } from '../log.js';
import { applyEnvironmentCredentials } from '../auth/environment-sign-in.js';
import { warnIfEnvFileNotIgnored } from '../env-file-check.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createConfigErrorServer, createServer } from './server.js';

/**
 * `arcgis-mcp` with no arguments: the MCP server on stdio. SEC-STDOUT: stdout carries only
 * JSON-RPC; everything else goes to stderr through the logger.
 */
export async function runStdioServer(): Promise<void> {
  let server: McpServer;
  let ready: Record<string, unknown> = { configError: true };
  try {
    const config = loadConfig(loadEnv());
    const ctx = createAppContext(config, log);
    server = createServer(ctx);
    // The stored session is restored before `initialize` is answered (bounded by STORE-TIMEOUT),
    // so that processes started together all see the same refresh token before any of them may
    // rotate it. Environment credentials need the network: tool calls wait for them instead.
    await ctx.profiles.restoreAll();
    ctx.ready = applyEnvironmentCredentials(ctx.profiles.get(), ctx.http, config.credentials, log).catch(
      (e: unknown) => log.error('start-up failed', { error: e }),
    );
    void warnIfEnvFileNotIgnored(config.envFile, log);
    ready = {
      profiles: ctx.profiles.names,
      store: ctx.store.describe(),
      envFile: config.envFile ?? null,
      configFile: config.configFile ?? null,
    };
  } catch (e) {
    // A broken configuration must not look like a crash in the MCP client ("server disconnected"):
    // serve every tool with the error and the fix, so the model can tell the user (and say it here).
    if (!isArcGisMcpError(e)) throw e;
    log.error('configuration error: every tool will report it until the server is restarted', { error: e });
    process.stderr.write(`arcgis-mcp: ${e.toUserText()}\n`);
    server = createConfigErrorServer(e);
  }
  await server.connect(new StdioServerTransport());
  log.info('arcgis-mcp ready on stdio', ready);
  // The SDK's stdio transport does not exit when stdin closes (environment.md): do it here.
  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    log.info('shutting down', { why });
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
