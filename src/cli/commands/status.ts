import type { AppContext } from '../../app-context.js';
import type { ProfileContext } from '../../auth/profile-registry.js';
import { readSessionReport, type SessionReport } from '../../auth/session-report.js';
import { type CliIo, portalLabel, profileFlag, when } from '../cli-context.js';

/**
 * `arcgis-mcp status [--profile P] [--json]` (gh auth status): per profile, who is signed in, the
 * kind of credential, when the tokens expire and where the refresh token is stored. Never a token,
 * not even masked (SEC-NO-SECRETS-IN-RESULTS). The session is read from the shared store and
 * checked at the portal (a refresh, as arcgis_whoami does), so "signed in" means "works now".
 *
 * Exit 1 when the selected profile (the default one without --profile) is not signed in, or any
 * shown profile has a problem.
 */
export interface ProfileStatusView extends SessionReport {
  nextStep: string | null;
}

/** The same reading as arcgis_whoami's (src/auth/session-report.ts), with a next step for a terminal. */
export async function describeProfile(p: ProfileContext): Promise<ProfileStatusView> {
  // A sign-in made elsewhere (the MCP server, another terminal) is in the shared store.
  await p.session.restore();
  const report = await readSessionReport(p);
  return {
    ...report,
    nextStep:
      report.signedIn && !report.problem
        ? null
        : !p.config.clientId
          ? 'No ArcGIS client id is configured: register an OAuth app in the org and set ARCGIS_CLIENT_ID (see the README), then run `arcgis-mcp login`; or run `arcgis-mcp login --way sign-in-page`.'
          : `run \`arcgis-mcp login${profileFlag(p)}\`.`,
  };
}

function render(v: ProfileStatusView, p: ProfileContext, now: number): string {
  const lines = [`${v.profile}${v.isDefault ? ' (default)' : ''}: ${portalLabel(p)}`];
  if (v.signedIn) {
    const org = v.orgName ? ` in "${v.orgName}"` : '';
    const role = v.role ? `, role ${v.role}` : '';
    const name = v.fullName ? ` (${v.fullName})` : '';
    lines.push(`  ${v.problem ? '✗' : '✓'} Signed in as ${v.username ?? '?'}${name}${role}${org}`);
    lines.push(`  - Credential: ${v.credentialKind} (${v.credentialSource ?? 'unknown'})`);
    lines.push(
      `  - Access token: expires ${when(v.accessExpiresAt ? Date.parse(v.accessExpiresAt) : null, now)}`,
    );
    if (v.refreshExpiresAt) {
      lines.push(`  - Refresh token: expires ${when(Date.parse(v.refreshExpiresAt), now)}`);
      lines.push(`  - Stored in: ${v.refreshTokenStoredIn ?? 'nowhere (memory only)'}`);
    } else {
      lines.push('  - Refresh token: none (this sign-in ends with the process that holds it)');
    }
    lines.push('  - Token: ****(redacted; `arcgis-mcp token` prints a fresh one for scripts)');
  } else {
    lines.push(`  ✗ Not signed in`);
  }
  if (v.problem) lines.push(`  - Problem: ${v.problem}`);
  if (v.nextStep) lines.push(`  - Next step: ${v.nextStep}`);
  return lines.join('\n');
}

export async function runStatus(
  ctx: AppContext,
  io: CliIo,
  opts: { profile?: string | undefined; json: boolean },
): Promise<number> {
  const targets = opts.profile ? [ctx.profiles.get(opts.profile)] : ctx.profiles.all();
  const views: ProfileStatusView[] = [];
  for (const p of targets) views.push(await describeProfile(p));
  const selected = views.find((v) => (opts.profile ? v.profile === opts.profile : v.isDefault));
  const failed = !selected?.signedIn || views.some((v) => v.problem !== null);
  if (opts.json) {
    io.out(`${JSON.stringify({ profiles: views }, null, 2)}\n`);
  } else {
    const now = ctx.now();
    io.out(`${views.map((v, i) => render(v, targets[i]!, now)).join('\n\n')}\n`);
  }
  return failed ? 1 : 0;
}
