import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import type { ProfileContext } from '../../auth/profile-registry.js';
import { readSessionReport } from '../../auth/session-report.js';
import { okResult, runTool, toolOptions } from '../tool-result.js';
import { profileArg } from './profile-arg.js';

/**
 * `arcgis_whoami`: for every profile, who is signed in, with which kind of credential, until when,
 * where the refresh token lives; or, when nobody is, the next step of the decision tree.
 */
const profileStatus = z.object({
  profile: z.string(),
  portalUrl: z.string(),
  signedIn: z.boolean(),
  username: z.string().nullable(),
  fullName: z.string().nullable(),
  role: z.string().nullable(),
  orgId: z.string().nullable(),
  orgName: z.string().nullable(),
  credentialKind: z.enum(['user', 'app']).nullable(),
  credentialSource: z.string().nullable(),
  accessExpiresAt: z.string().nullable(),
  refreshExpiresAt: z.string().nullable(),
  refreshTokenStoredIn: z.string().nullable(),
  appCredential: z
    .enum(['none', 'configured'])
    .describe('A 2-legged app credential (client id + secret). It is never used for org content.'),
  problem: z.string().nullable(),
  nextStep: z.string().nullable(),
});
export const whoamiOutput = { profiles: z.array(profileStatus) };

async function describeProfile(p: ProfileContext): Promise<z.infer<typeof profileStatus>> {
  const { isDefault: _isDefault, ...report } = await readSessionReport(p);
  const hint = p.isDefault ? '' : ` with profile "${p.config.name}"`;
  return {
    ...report,
    nextStep: report.signedIn
      ? null
      : !p.config.clientId
        ? 'No ArcGIS client id is configured: ask the user to register an OAuth app and set ARCGIS_CLIENT_ID (see the README), or call arcgis_auth_url with way "sign-in-page" for a generated token. Public services work without signing in.'
        : `Public services work without signing in. For org-private services call arcgis_auth_url${hint} and have the user sign in.`,
  };
}

export function registerWhoami(server: McpServer, ctx: AppContext): void {
  server.registerTool(
    'arcgis_whoami',
    {
      title: 'Who is signed in to ArcGIS',
      description:
        'Shows, for each configured ArcGIS portal (profile), whether a user is signed in, who (user, role, org), the kind of credential, when the access and refresh tokens expire and where the refresh token is stored; or, when nobody is signed in, what to do next. Never returns a token.',
      inputSchema: { profile: profileArg(ctx) },
      outputSchema: whoamiOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ profile }, extra) =>
      runTool(toolOptions(ctx, 'arcgis_whoami', extra), async () => {
        const targets = profile ? [ctx.profiles.get(profile)] : ctx.profiles.all();
        const profiles = await Promise.all(targets.map(describeProfile));
        const summary = profiles
          .map((s) =>
            s.signedIn
              ? `${s.profile}: signed in to ${new URL(s.portalUrl).host} as ${s.username ?? '?'}${s.role ? ` (${s.role})` : ''}`
              : `${s.profile}: not signed in to ${new URL(s.portalUrl).host}${s.problem ? ` — ${s.problem}` : ''}`,
          )
          .join('\n');
        return okResult({ profiles }, summary);
      }),
  );
}
