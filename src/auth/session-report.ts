import { isArcGisMcpError } from '../errors.js';
import type { Identity } from './profile-session.js';
import type { ProfileContext } from './profile-registry.js';

/**
 * One reading of a profile's sign-in, shared by `arcgis_whoami` and `arcgis-mcp status`: the
 * session is checked at the portal first (a refresh when needed), so "signed in" means "works now".
 * Never a token. The caller adds the next step in its own audience's words.
 */
export interface SessionReport {
  profile: string;
  isDefault: boolean;
  portalUrl: string;
  signedIn: boolean;
  username: string | null;
  fullName: string | null;
  role: string | null;
  orgId: string | null;
  orgName: string | null;
  credentialKind: 'user' | 'app' | null;
  credentialSource: string | null;
  accessExpiresAt: string | null;
  refreshExpiresAt: string | null;
  refreshTokenStoredIn: string | null;
  appCredential: 'none' | 'configured';
  problem: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export async function readSessionReport(p: ProfileContext): Promise<SessionReport> {
  let problem: string | null = null;
  let identity: Identity | null = null;
  if (!p.session.hasUserSession) await p.session.pickUpStoredSession();
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
    credentialKind: s.signedIn ? 'user' : p.app.configured ? 'app' : null,
    credentialSource: s.signedIn ? s.credentialSource : (p.app.source ?? null),
    accessExpiresAt: iso(s.accessExpiresAt),
    refreshExpiresAt: iso(s.refreshExpiresAt),
    refreshTokenStoredIn: s.refreshTokenStoredIn,
    appCredential: p.app.configured ? 'configured' : 'none',
    problem,
  };
}
