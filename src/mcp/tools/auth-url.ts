import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { OOB_REDIRECT_URI } from '../../arcgis/oauth.js';
import { requireClientId, startOutOfBandSignIn } from '../../auth/out-of-band-sign-in.js';
import { iso, okResult, runTool, toolOptions } from '../tool-result.js';
import { profileArg } from './profile-arg.js';

/**
 * `arcgis_auth_url`: starts a sign-in (product.md Section A, and B–D through the local page).
 * - way "browser" (default): OAuth 2.0 authorization code + PKCE S256 + state. Out-of-band (the user
 *   pastes the code) or, with a loopback redirect configured, a 127.0.0.1 listener catches it
 *   (AUTH-LOOPBACK: nothing to paste).
 * - way "sign-in-page": a one-time http://127.0.0.1:<port>/signin/<id> page where the user can sign in
 *   with ArcGIS, paste a token they generated, or enter a username and password — never in the
 *   chat. This is what the MCP elicitation spec recommends when the client has no URL-mode
 *   elicitation (Claude Desktop and Claude Code have none).
 * The PKCE verifier and every secret stay in this process.
 */
export const authUrlOutput = {
  profile: z.string(),
  portalUrl: z.string(),
  link: z.string().describe('The link to give the user.'),
  authorizeUrl: z.string().nullable().describe('The ArcGIS authorize URL (browser sign-in).'),
  signInPageUrl: z.string().nullable().describe('The one-time local sign-in page (way "sign-in-page").'),
  redirectMode: z.enum(['out-of-band', 'loopback', 'sign-in-page']),
  expiresAt: z.string().describe('The sign-in must be finished before this time (ISO 8601).'),
  alreadySignedInAs: z.string().nullable(),
  tellTheUser: z.string(),
  nextStep: z.string(),
};
type AuthUrlOutput = { [K in keyof typeof authUrlOutput]: z.infer<(typeof authUrlOutput)[K]> };

const LOCAL_SIGN_IN_TTL_MS = 10 * 60 * 1000;

export function registerAuthUrl(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'arcgis_auth_url',
    {
      title: 'Start an ArcGIS sign-in',
      description:
        'Starts signing the user in to their ArcGIS portal and returns a link for the user to open. Use it when arcgis_query says a service needs a signed-in user, or when the user asks to sign in. Default way "browser": OAuth 2.0 with PKCE in the user\'s own browser (SAML and MFA work). Way "sign-in-page": a local page on this computer where the user can also paste a token they generated or enter a username and password (orgs without MFA) — use it when the user says they have a token or cannot use the browser sign-in. The user must never paste a password, token or client secret into the chat.',
      inputSchema: {
        profile: profileArg(ctx),
        way: z
          .enum(['browser', 'sign-in-page'])
          .optional()
          .describe(
            '"browser" (default): ArcGIS sign-in page. "sign-in-page": local page with every way in, incl. generated tokens.',
          ),
      },
      outputSchema: authUrlOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async ({ profile, way }, extra) =>
      runTool(toolOptions(ctx, 'arcgis_auth_url', extra), async () => {
        const p = ctx.profiles.get(profile);
        const status = p.session.status();
        const common = {
          profile: p.config.name,
          portalUrl: p.config.portalUrl.href,
          alreadySignedInAs: status.signedIn ? (status.identity?.username ?? null) : null,
        };
        const host = p.config.portalUrl.host;

        if (way === 'sign-in-page') {
          const { server: local } = await ctx.localSignIns.start(p, 'page');
          const link = local.signInPageUrl ?? '';
          const out: AuthUrlOutput = {
            ...common,
            link,
            authorizeUrl: null,
            signInPageUrl: link,
            redirectMode: 'sign-in-page',
            expiresAt: iso(ctx.now() + LOCAL_SIGN_IN_TTL_MS) ?? '',
            tellTheUser: `Open this link on this computer. It is a private page served by the ArcGIS tools on your machine: sign in with ArcGIS (${host}), or paste a token you generated, or enter your ArcGIS username and password if your organisation does not use SAML or MFA. Do not paste any of these into the chat.`,
            nextStep:
              'Call arcgis_exchange_code without a code: it waits until the user has finished on the page.',
          };
          return okResult(out, `Local sign-in page for ${host} (valid 10 minutes, works once): ${link}`);
        }

        requireClientId(p, NO_CLIENT_ID);
        if (p.config.redirectUri !== OOB_REDIRECT_URI) {
          const { authorizeUrl } = await ctx.localSignIns.start(p, 'loopback');
          const link = authorizeUrl ?? '';
          const out: AuthUrlOutput = {
            ...common,
            link,
            authorizeUrl: link,
            signInPageUrl: null,
            redirectMode: 'loopback',
            expiresAt: iso(ctx.now() + LOCAL_SIGN_IN_TTL_MS) ?? '',
            tellTheUser: `Open this link and sign in to ${host} with your ArcGIS account. The browser comes back to this computer and the sign-in finishes by itself; you can close the tab afterwards. Nothing needs to be pasted.`,
            nextStep: 'Call arcgis_exchange_code without a code: it waits for the browser to come back.',
          };
          return okResult(out, `Sign-in link for ${host} (valid 10 minutes): ${link}`);
        }

        const { pending, authorizeUrl } = startOutOfBandSignIn(ctx.pending, p, NO_CLIENT_ID);
        const out: AuthUrlOutput = {
          ...common,
          link: authorizeUrl,
          authorizeUrl,
          signInPageUrl: null,
          redirectMode: 'out-of-band',
          expiresAt: iso(pending.expiresAt) ?? '',
          tellTheUser: `Open this link, sign in to ${host} with your ArcGIS account, then copy the authorization code the page shows and paste it here. The code alone is safe to share: it works only with this server, once, for 10 minutes. Never paste your password or a token.`,
          nextStep: 'When the user pastes the code, call arcgis_exchange_code with it.',
        };
        return okResult(out, `Sign-in link for ${host} (valid 10 minutes): ${authorizeUrl}`);
      }),
  );
}

const NO_CLIENT_ID =
  'Either call arcgis_auth_url with way "sign-in-page" (the user can paste a generated token or use a username and password there), or tell the user to register an OAuth app in their ArcGIS org (see the README: redirect URIs urn:ietf:wg:oauth:2.0:oob and http://127.0.0.1/callback) and set ARCGIS_CLIENT_ID. No client secret is needed.';
