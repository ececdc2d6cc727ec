import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AppContext } from '../app-context.js';
import { ArcGisMcpError } from '../errors.js';
import { errorResult } from './tool-result.js';
import { SERVER_INSTRUCTIONS } from './instructions.js';
import { registerAuthUrl } from './tools/auth-url.js';
import { registerExchangeCode } from './tools/exchange-code.js';
import { registerLogout } from './tools/logout.js';
import { registerQuery } from './tools/query.js';
import { registerWhoami } from './tools/whoami.js';

export const SERVER_NAME = 'arcgis-mcp';
export const SERVER_VERSION = '0.1.0';

/** The server factory (style.md: `createServer(deps)`); transports are attached by the caller. */
export function createServer(ctx: AppContext): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { capabilities: { logging: {} }, instructions: SERVER_INSTRUCTIONS },
  );
  registerAuthUrl(server, ctx);
  registerExchangeCode(server, ctx);
  registerWhoami(server, ctx);
  registerQuery(server, ctx);
  registerLogout(server, ctx);
  return server;
}

/**
 * The server when the configuration cannot be used: the same tool names, each answering with the
 * configuration error and how to fix it (REL-BAD-INPUT: a clear error instead of a dead server).
 */
export function createConfigErrorServer(error: ArcGisMcpError): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      capabilities: { logging: {} },
      instructions: `This ArcGIS server could not start because its configuration is invalid. Every tool reports the problem; tell the user what to fix.`,
    },
  );
  const problem = new ArcGisMcpError(
    'CONFIG_INVALID',
    `The arcgis-mcp configuration is invalid: ${error.message}`,
    {
      nextStep: `${error.nextStep ?? 'Fix the configuration'} Then restart the MCP server (restart the client app).`,
    },
  );
  for (const name of [
    'arcgis_auth_url',
    'arcgis_exchange_code',
    'arcgis_whoami',
    'arcgis_query',
    'arcgis_logout',
  ]) {
    server.registerTool(
      name,
      {
        description: 'Unavailable: the server configuration is invalid. Call it to see what to fix.',
        inputSchema: {},
      },
      async () => errorResult(problem),
    );
  }
  return server;
}
