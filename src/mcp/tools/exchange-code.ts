import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { OOB_REDIRECT_URI } from '../../arcgis/oauth.js';
import type { ValidatedSignIn } from '../../auth/pending-sign-ins.js';
import { ArcGisMcpError } from '../../errors.js';
import { iso, okResult, runTool } from '../tool-result.js';
import { profileArg } from './profile-arg.js';

/**
 * `arcgis_exchange_code`: redeems the authorization code of the pending sign-in (with its PKCE
 * verifier), verifies who signed in, keeps the access token in memory and the refresh token in the
 * secret store, and reports who signed in — never a token (SEC-NO-SECRETS-IN-RESULTS).
 */
export const exchangeCodeOutput = {
  signedIn: z.literal(true),
  profile: z.string(),
  portalUrl: z.string(),
  username: z.string(),
  fullName: z.string().nullable(),
  role: z.string().nullable(),
  orgId: z.string().nullable(),
  orgName: z.string().nullable(),
  accessExpiresAt: z.string().nullable(),
  refreshExpiresAt: z.string().nullable(),
  refreshTokenStoredIn: z.string().nullable(),
};

/** What the user pasted: the bare code, or the whole redirect URL (which then carries the state too). */
export function readPastedCode(input: string): { code: string; state: string | null } {
  const text = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('urn:')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badCode();
    }
    const error = url.searchParams.get('error');
    if (error) {
      throw new ArcGisMcpError('OAUTH_ACCESS_DENIED', `The sign-in was not completed (${error}).`, {
        nextStep: 'Ask the user whether they want to sign in; if so, call arcgis_auth_url for a new link.',
      });
    }
    const code = url.searchParams.get('code');
    if (!code) throw badCode();
    return { code, state: url.searchParams.get('state') };
  }
  if (!/^[A-Za-z0-9._~+/=-]{8,2048}$/.test(text)) throw badCode();
  return { code: text, state: null };
}

function badCode(): ArcGisMcpError {
  return new ArcGisMcpError('OAUTH_CODE_REJECTED', 'That does not look like an ArcGIS authorization code.', {
    nextStep:
      'Ask the user to copy the code exactly as the ArcGIS page shows it (or the whole address of the page), then call arcgis_exchange_code again.',
  });
}

export function registerExchangeCode(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'arcgis_exchange_code',
    {
      title: 'Finish an ArcGIS sign-in',
      description:
        'Finishes the sign-in started by arcgis_auth_url: pass the authorization code the user pasted (out-of-band sign-in). Returns who signed in and when the session expires; the tokens stay inside the server. The code is single-use and worthless without this server, so it is safe in the chat; a password, token or client secret is not and must never be passed.',
      inputSchema: {
        code: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .describe('The authorization code shown by ArcGIS after the user signed in (or the whole page address).'),
        profile: profileArg(ctx),
      },
      outputSchema: exchangeCodeOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async ({ code, profile }, extra) =>
      runTool(
        { name: 'arcgis_exchange_code', deadlineMs: ctx.config.toolDeadlineMs, signal: extra.signal, log: ctx.log },
        async () => {
          const p = ctx.profiles.get(profile);
          if (code === undefined) {
            throw new ArcGisMcpError('OAUTH_CODE_REJECTED', 'No code was given.', {
              nextStep:
                'Ask the user to paste the authorization code the ArcGIS page showed after they signed in, then call arcgis_exchange_code with it. If they have no link yet, call arcgis_auth_url first.',
            });
          }
          const pasted = readPastedCode(code);
          // AUTH-STATE: a state that came back must be ours, unused and fresh; checked before any token request.
          const pending: ValidatedSignIn =
            pasted.state !== null
              ? ctx.pending.takeByState(p.config.name, pasted.state)
              : ctx.pending.takeLatest(p.config.name, OOB_REDIRECT_URI);
          const identity = await p.session.completeOAuth(pending, pasted.code);
          const status = p.session.status();
          const structured = {
            signedIn: true as const,
            profile: p.config.name,
            portalUrl: p.config.portalUrl.href,
            username: identity.username,
            fullName: identity.fullName ?? null,
            role: identity.role ?? null,
            orgId: identity.orgId ?? null,
            orgName: identity.orgName ?? null,
            accessExpiresAt: iso(status.accessExpiresAt),
            refreshExpiresAt: iso(status.refreshExpiresAt),
            refreshTokenStoredIn: status.refreshTokenStoredIn,
          };
          return okResult(
            structured,
            `Signed in to ${p.config.portalUrl.host} as ${identity.username}${identity.orgName ? ` (${identity.orgName})` : ''}. Retry the query that needed it.`,
          );
        },
      ),
  );
}
