import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import type { LocalAuthServer, SignInOutcome } from '../../auth/local-sign-in/types.js';
import { readPastedCode } from '../../auth/pasted-code.js';
import type { ValidatedSignIn } from '../../auth/pending-sign-ins.js';
import { ArcGisMcpError } from '../../errors.js';
import { iso, okResult, runTool, toolOptions } from '../tool-result.js';
import { profileArg } from './profile-arg.js';

/**
 * `arcgis_exchange_code`: redeems the authorization code of the pending sign-in (with its PKCE
 * verifier), verifies who signed in, keeps the access token in memory and the refresh token in the
 * secret store, and reports who signed in — never a token (SEC-NO-SECRETS-IN-RESULTS).
 */
export const DEFAULT_WAIT_SECONDS = 120;
export const MAX_WAIT_SECONDS = 600;
const PROGRESS_INTERVAL_MS = 2_000;

export const exchangeCodeOutput = {
  signedIn: z.literal(true),
  profile: z.string(),
  portalUrl: z.string(),
  username: z.string(),
  fullName: z.string().nullable(),
  role: z.string().nullable(),
  orgId: z.string().nullable(),
  orgName: z.string().nullable(),
  credentialSource: z.string().nullable().describe('oauth, generate-token, pasted-token, environment-token'),
  accessExpiresAt: z.string().nullable(),
  refreshExpiresAt: z.string().nullable(),
  refreshTokenStoredIn: z.string().nullable(),
};

export function registerExchangeCode(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'arcgis_exchange_code',
    {
      title: 'Finish an ArcGIS sign-in',
      description:
        'Finishes the sign-in started by arcgis_auth_url: pass the authorization code the user pasted (out-of-band sign-in), or call it without a code after a loopback or sign-in-page link to wait until the user has finished. Returns who signed in and when the session expires; the tokens stay inside the server. The code is single-use and worthless without this server, so it is safe in the chat; a password, token or client secret is not and must never be passed.',
      inputSchema: {
        code: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .describe(
            'The authorization code shown by ArcGIS after the user signed in (or the whole page address). Omit it after a loopback or sign-in-page link: the call then waits for the user to finish.',
          ),
        profile: profileArg(ctx),
        waitSeconds: z
          .number()
          .int()
          .min(1)
          .max(MAX_WAIT_SECONDS)
          .optional()
          .describe(`Without a code: how long to wait for the user (default ${DEFAULT_WAIT_SECONDS} s).`),
      },
      outputSchema: exchangeCodeOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async ({ code, profile, waitSeconds }, extra) =>
      runTool(
        {
          ...toolOptions(ctx, 'arcgis_exchange_code', extra),
          // Waiting for a person may take longer than an ordinary call.
          deadlineMs: Math.max(
            ctx.config.toolDeadlineMs,
            ((waitSeconds ?? DEFAULT_WAIT_SECONDS) + 30) * 1000,
          ),
        },
        async (signal) => {
          const p = ctx.profiles.get(profile);
          if (code === undefined) {
            const local = ctx.localSignIns.latest(p.config.name);
            if (!local) {
              throw new ArcGisMcpError(
                'OAUTH_CODE_REJECTED',
                'No code was given, and no sign-in is waiting on this computer.',
                {
                  nextStep:
                    'Ask the user to paste the authorization code the ArcGIS page showed after they signed in, then call arcgis_exchange_code with it. If they have no link yet, call arcgis_auth_url first.',
                },
              );
            }
            const outcome = await waitWithProgress(
              local,
              (waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000,
              signal,
              extra,
            );
            if (outcome.way === 'token' && outcome.kind === 'app') {
              throw new ArcGisMcpError(
                'ARCGIS_APP_TOKEN_REFUSED',
                `The token entered on the page is an app token${outcome.appTitle ? ` (${JSON.stringify(outcome.appTitle)})` : ''}, not a user's. It is kept for public content and location services only; org-private content needs a user.`,
                {
                  nextStep:
                    'Ask the user to sign in as themselves: call arcgis_auth_url (browser), or the sign-in page with a token generated for their own account.',
                },
              );
            }
            return signedInResult(ctx, p.config.name);
          }
          const pasted = readPastedCode(code);
          // AUTH-STATE: a state that came back must be ours, unused and fresh; checked before any token request.
          const pending: ValidatedSignIn =
            pasted.state !== null
              ? ctx.pending.takeByState(p.config.name, pasted.state)
              : ctx.pending.takeLatest(p.config.name);
          await p.session.completeOAuth(pending, pasted.code);
          return signedInResult(ctx, p.config.name);
        },
      ),
  );
}

function signedInResult(ctx: AppContext, profile: string): CallToolResult {
  const p = ctx.profiles.get(profile);
  const status = p.session.status();
  const identity = status.identity;
  if (!status.signedIn || !identity) {
    throw new ArcGisMcpError('ARCGIS_SIGN_IN_REQUIRED', 'The sign-in did not leave a user session.', {
      nextStep: 'Call arcgis_auth_url and try again.',
    });
  }
  const structured = {
    signedIn: true as const,
    profile: p.config.name,
    portalUrl: p.config.portalUrl.href,
    username: identity.username,
    fullName: identity.fullName ?? null,
    role: identity.role ?? null,
    orgId: identity.orgId ?? null,
    orgName: identity.orgName ?? null,
    credentialSource: status.credentialSource,
    accessExpiresAt: iso(status.accessExpiresAt),
    refreshExpiresAt: iso(status.refreshExpiresAt),
    refreshTokenStoredIn: status.refreshTokenStoredIn,
  };
  return okResult(
    structured,
    `Signed in to ${p.config.portalUrl.host} as ${identity.username}${identity.orgName ? ` (${identity.orgName})` : ''}. Retry the query that needed it.`,
  );
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Waits for the local sign-in (loopback callback or sign-in page), bounded and cancellable, with
 * MCP progress notifications so the client shows that it is waiting for the user.
 */
async function waitWithProgress(
  local: LocalAuthServer,
  waitMs: number,
  signal: AbortSignal,
  extra: Extra,
): Promise<SignInOutcome> {
  const progressToken = extra._meta?.progressToken;
  const started = Date.now();
  const timer =
    progressToken === undefined
      ? undefined
      : setInterval(() => {
          const elapsed = Date.now() - started;
          void extra
            .sendNotification({
              method: 'notifications/progress',
              params: {
                progressToken,
                progress: Math.min(elapsed, waitMs),
                total: waitMs,
                message: 'Waiting for the user to finish signing in in the browser…',
              },
            })
            .catch(() => undefined);
        }, PROGRESS_INTERVAL_MS);
  const deadline = AbortSignal.timeout(waitMs);
  try {
    return await local.waitForCompletion(AbortSignal.any([signal, deadline]));
  } catch (e) {
    if (deadline.aborted && !signal.aborted) {
      throw new ArcGisMcpError(
        'OAUTH_TIMEOUT',
        `The user did not finish signing in within ${Math.round(waitMs / 1000)} s.`,
        {
          nextStep:
            'Ask the user whether they finished in the browser; if they are still on it, call arcgis_exchange_code again to keep waiting (the link stays valid for 10 minutes); otherwise call arcgis_auth_url for a new link.',
        },
      );
    }
    throw e;
  } finally {
    if (timer) clearInterval(timer);
  }
}
