import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createAppContext } from '../app-context.js';
import { loadConfig, loadEnv } from '../config.js';
import { isArcGisMcpError } from '../errors.js';
import { log } from '../log.js';
import { applyEnvironmentCredentials } from '../auth/environment-sign-in.js';
import { warnIfEnvFileNotIgnored } from '../env-file-check.js';
import { createServer } from './server.js';

/**
 * `arcgis-mcp` with no arguments: the MCP server on stdio. SEC-STDOUT: stdout carries only
 * JSON-RPC; everything else goes to stderr through the logger.
 */
export async function runStdioServer(): Promise<void> {
  let config;
  try {
    config = loadConfig(loadEnv());
  } catch (e) {
    log.error('configuration error', { error: e });
    process.stderr.write(`arcgis-mcp: ${isArcGisMcpError(e) ? e.toUserText() : String(e)}\n`);
    process.exitCode = 2;
    return;
  }
  const ctx = createAppContext(config, log);
  const server = createServer(ctx);
  // Restore sessions before accepting calls, so the first tool call already sees them.
  await ctx.profiles.restoreAll();
  await applyEnvironmentCredentials(ctx.profiles.get(), ctx.http, config.credentials, log);
  void warnIfEnvFileNotIgnored(config.envFile, log);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  log.info('arcgis-mcp ready on stdio', {
    profiles: ctx.profiles.names,
    store: ctx.store.describe(),
    envFile: config.envFile ?? null,
  });
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
