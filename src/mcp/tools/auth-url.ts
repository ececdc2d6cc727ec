import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { buildAuthorizeUrl, OOB_REDIRECT_URI } from '../../arcgis/oauth.js';
import { ArcGisMcpError } from '../../errors.js';
import { iso, okResult, runTool } from '../tool-result.js';
import { profileArg } from './profile-arg.js';

/**
 * `arcgis_auth_url`: starts a sign-in (product.md Section A): PKCE S256 + state, out-of-band or
 * loopback redirect. Returns the link and what to tell the user; the verifier stays here.
 */
export const authUrlOutput = {
  profile: z.string(),
  portalUrl: z.string(),
  authorizeUrl: z.string().describe('The link the user opens in their browser.'),
  redirectMode: z.enum(['out-of-band', 'loopback']),
  expiresAt: z.string().describe('The sign-in must be finished before this time (ISO 8601).'),
  alreadySignedInAs: z.string().nullable(),
  tellTheUser: z.string(),
  nextStep: z.string(),
};

export function registerAuthUrl(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'arcgis_auth_url',
    {
      title: 'Start an ArcGIS sign-in',
      description:
        'Starts signing the user in to their ArcGIS portal (OAuth 2.0 authorization code with PKCE) and returns a link for the user to open. Use it when arcgis_query says a service needs a signed-in user, or when the user asks to sign in. The user signs in in their own browser (SAML and MFA work); they must never paste a password, token or client secret into the chat.',
      inputSchema: { profile: profileArg(ctx) },
      outputSchema: authUrlOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ profile }, extra) =>
      runTool({ name: 'arcgis_auth_url', deadlineMs: ctx.config.toolDeadlineMs, signal: extra.signal, log: ctx.log }, async () => {
        const p = ctx.profiles.get(profile);
        const clientId = p.config.clientId;
        if (!clientId) {
          throw new ArcGisMcpError('CONFIG_INVALID', `Profile "${p.config.name}" has no ArcGIS client id configured, so no sign-in link can be made.`, {
            nextStep:
              'Tell the user to register an OAuth app in their ArcGIS org (Content → New item → Developer credentials → OAuth credentials, redirect URI urn:ietf:wg:oauth:2.0:oob), then set ARCGIS_CLIENT_ID in the MCP server configuration and restart it. No client secret is needed.',
          });
        }
        const redirectUri = p.config.redirectUri;
        const pending = ctx.pending.start({
          profile: p.config.name,
          portalUrl: p.config.portalUrl.href,
          clientId,
          redirectUri,
        });
        const authorizeUrl = buildAuthorizeUrl({
          restUrl: p.config.restUrl,
          clientId,
          redirectUri,
          state: pending.state,
          codeChallenge: pending.codeChallenge,
          expirationMinutes: p.config.expirationMinutes,
        });
        const status = p.session.status();
        const oob = redirectUri === OOB_REDIRECT_URI;
        const structured = {
          profile: p.config.name,
          portalUrl: p.config.portalUrl.href,
          authorizeUrl: authorizeUrl.href,
          redirectMode: oob ? ('out-of-band' as const) : ('loopback' as const),
          expiresAt: iso(pending.expiresAt) ?? '',
          alreadySignedInAs: status.signedIn ? (status.identity?.username ?? null) : null,
          tellTheUser: oob
            ? `Open this link, sign in to ${p.config.portalUrl.host} with your ArcGIS account, then copy the authorization code the page shows and paste it here (the code alone is safe to share: it only works with this server, once, for 10 minutes). Never paste your password or a token.`
            : `Open this link and sign in to ${p.config.portalUrl.host}; the browser returns to this computer and the sign-in finishes by itself. You can close the tab afterwards.`,
          nextStep: oob
            ? 'When the user pastes the code, call arcgis_exchange_code with it.'
            : 'Call arcgis_exchange_code without a code: it waits for the browser to come back.',
        };
        return okResult(structured, `Sign-in link for ${p.config.portalUrl.host} (valid 10 minutes): ${authorizeUrl.href}`);
      }),
  );
}
