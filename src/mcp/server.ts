import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AppContext } from '../app-context.js';
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
