import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { okResult, runTool, toolOptions } from '../tool-result.js';
import { profileArg } from './profile-arg.js';

/**
 * `arcgis_logout`: revokes the refresh token at the portal (which also kills its access tokens,
 * arcgis-protocol.md §3) and deletes every stored copy (STORE-EXPLICIT-FALLBACK), for one profile
 * or all of them.
 */
export const logoutOutput = {
  profiles: z.array(
    z.object({
      profile: z.string(),
      revokedAtPortal: z.boolean(),
      deletedFromStore: z.boolean(),
      store: z.string(),
    }),
  ),
};

export function registerLogout(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'arcgis_logout',
    {
      title: 'Sign out of ArcGIS',
      description:
        'Signs the user out: revokes the session at the ArcGIS portal and deletes the stored refresh token (keychain or file). Without a profile, signs out of every configured portal. Only call it when the user asks to sign out.',
      inputSchema: { profile: profileArg(ctx) },
      outputSchema: logoutOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ profile }, extra) =>
      runTool(toolOptions(ctx, 'arcgis_logout', extra), async () => {
        const targets = profile ? [ctx.profiles.get(profile)] : ctx.profiles.all();
        const profiles = [];
        for (const p of targets) {
          ctx.pending.cancel(p.config.name);
          const r = await p.session.logout();
          p.app.forget();
          profiles.push({
            profile: p.config.name,
            revokedAtPortal: r.revoked,
            deletedFromStore: r.deleted,
            store: ctx.store.describe(),
          });
        }
        const summary = profiles
          .map(
            (r) =>
              `${r.profile}: signed out${r.revokedAtPortal ? ' (session revoked at the portal)' : ''}${r.deletedFromStore ? `; refresh token deleted from ${r.store}` : ''}`,
          )
          .join('\n');
        return okResult({ profiles }, summary);
      }),
  );
}
