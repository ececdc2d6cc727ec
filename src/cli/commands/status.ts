import type { AppContext } from '../../app-context.js';
import type { Identity } from '../../auth/profile-session.js';
import type { ProfileContext } from '../../auth/profile-registry.js';
import { isArcGisMcpError } from '../../errors.js';
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
export interface ProfileStatusView {
  profile: string;
  isDefault: boolean;
  portalUrl: string;
  signedIn: boolean;
  username: string | null;
  fullName: string | null;
  role: string | null;
  orgId: string | null;
  orgName: string | null;
  credentialKind: 'user' | null;
  credentialSource: string | null;
  accessExpiresAt: string | null;
  refreshExpiresAt: string | null;
  refreshTokenStoredIn: string | null;
  problem: string | null;
  nextStep: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The same reading as arcgis_whoami's (src/mcp/tools/whoami.ts), with a next step for a terminal. */
export async function describeProfile(p: ProfileContext): Promise<ProfileStatusView> {
  await p.session.restore();
  let problem: string | null = null;
  let identity: Identity | null = null;
  if (p.session.hasUserSession) {
    try {
      identity = await p.session.whoami();
    } catch (e) {
      problem = isArcGisMcpError(e) ? e.message : 'The session could not be checked.';
    }
  }
  const s = p.session.status();
  problem ??= s.problem;
  const who = s.signedIn ? (identity ?? s.identity) : null;
  return {
    profile: p.config.name,
    isDefault: p.isDefault,
    portalUrl: p.config.portalUrl.href,
    signedIn: s.signedIn,
    username: who?.username ?? null,
    fullName: who?.fullName ?? null,
    role: who?.role ?? null,
    orgId: who?.orgId ?? null,
    orgName: who?.orgName ?? null,
    credentialKind: s.signedIn ? 'user' : null,
    credentialSource: s.credentialSource,
    accessExpiresAt: iso(s.accessExpiresAt),
    refreshExpiresAt: iso(s.refreshExpiresAt),
    refreshTokenStoredIn: s.refreshTokenStoredIn,
    problem,
    nextStep:
      s.signedIn && !problem
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
