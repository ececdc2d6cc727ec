import { buildAuthorizeUrl, OOB_REDIRECT_URI } from '../arcgis/oauth.js';
import { ArcGisMcpError } from '../errors.js';
import type { PendingSignIn, PendingSignIns } from './pending-sign-ins.js';
import type { ProfileContext } from './profile-registry.js';

/**
 * Starts an out-of-band sign-in (product.md Section A): a pending sign-in with a fresh PKCE pair
 * and state (AUTH-PKCE-S256, AUTH-STATE), and the authorize URL the user opens. Shared by
 * `arcgis_auth_url` and `arcgis-mcp login`; the caller words the "no client id" advice for its
 * audience.
 */
export function startOutOfBandSignIn(
  pending: PendingSignIns,
  p: ProfileContext,
  noClientIdNextStep: string,
): { pending: PendingSignIn; authorizeUrl: string } {
  const clientId = requireClientId(p, noClientIdNextStep);
  const started = pending.start({
    profile: p.config.name,
    portalUrl: p.config.portalUrl.href,
    clientId,
    redirectUri: OOB_REDIRECT_URI,
  });
  const authorizeUrl = buildAuthorizeUrl({
    restUrl: p.config.restUrl,
    clientId,
    redirectUri: OOB_REDIRECT_URI,
    state: started.state,
    codeChallenge: started.codeChallenge,
    expirationMinutes: p.config.expirationMinutes,
  }).href;
  return { pending: started, authorizeUrl };
}

/** A browser sign-in needs the registered app's client id (never its secret). */
export function requireClientId(p: ProfileContext, nextStep: string): string {
  const clientId = p.config.clientId;
  if (!clientId) {
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      `Profile "${p.config.name}" has no ArcGIS client id configured, so no browser sign-in link can be made.`,
      { nextStep },
    );
  }
  return clientId;
}
