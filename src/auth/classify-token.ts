import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import { getCommunitySelf, getPortalSelf } from '../arcgis/portal.js';
import { ArcGisMcpError, isArcGisMcpError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { HostPolicy } from './host-policy.js';

/**
 * Decides what a token someone handed us represents, before it is used for anything
 * (NET-TWO-LEGGED): `community/self` answers with a user only for user tokens; `portals/self`
 * carries `user` for user tokens and `appInfo` for tokens minted through an app
 * (arcgis-protocol.md §5). API keys (`AAPK…`, `AAPT…`, `AATK…`) are app tokens (§6).
 * The token is sent only to the profile's portal, in the header.
 */
export type TokenClass =
  | {
      kind: 'user';
      username: string;
      fullName: string | undefined;
      role: string | undefined;
      orgId: string | undefined;
      orgName: string | undefined;
    }
  | { kind: 'app'; appId: string | undefined; appTitle: string | undefined; orgId: string | undefined };

export async function classifyToken(
  http: ArcGisHttpClient,
  restUrl: URL,
  policy: HostPolicy,
  token: string,
  referer?: string,
): Promise<TokenClass> {
  registerSecret(token);
  const trimmed = token.trim();
  if (!/^[A-Za-z0-9._~+/=-]{16,4096}$/.test(trimmed)) {
    throw new ArcGisMcpError('ARCGIS_TOKEN_INVALID', 'That does not look like an ArcGIS token.', {
      nextStep: 'Copy the whole token (it may end with a dot) and try again, or sign in with ArcGIS instead.',
    });
  }
  const decision = policy.check(restUrl);
  if (!decision.allowed)
    throw new ArcGisMcpError('CONFIG_INVALID', `The portal URL is not allowed: ${decision.why}`);
  const bound = { token: trimmed, origin: restUrl.origin, ...(referer ? { referer } : {}) };

  const looksLikeApiKey = /^AA(PK|PT|TK)/.test(trimmed);
  if (!looksLikeApiKey) {
    try {
      const user = await getCommunitySelf(http, restUrl, bound);
      const org = await getPortalSelf(http, restUrl, bound).catch(() => null);
      return {
        kind: 'user',
        username: user.username,
        fullName: user.fullName,
        role: user.role,
        orgId: user.orgId ?? org?.id,
        orgName: org?.name,
      };
    } catch (e) {
      if (isArcGisMcpError(e) && e.code === 'ARCGIS_TOKEN_INVALID') throw invalidToken();
      if (!isArcGisMcpError(e) || e.retryable) throw e;
      // Not a user token: fall through to portals/self.
    }
  }
  let portal;
  try {
    portal = await getPortalSelf(http, restUrl, bound);
  } catch (e) {
    if (isArcGisMcpError(e) && (e.code === 'ARCGIS_TOKEN_INVALID' || e.code === 'ARCGIS_SIGN_IN_REQUIRED')) {
      throw invalidToken();
    }
    throw e;
  }
  if (portal.appInfo) {
    return {
      kind: 'app',
      appId: portal.appInfo.appId,
      appTitle: portal.appInfo.appTitle,
      orgId: portal.appInfo.orgId,
    };
  }
  if (looksLikeApiKey) return { kind: 'app', appId: undefined, appTitle: undefined, orgId: portal.id };
  throw invalidToken();
}

function invalidToken(): ArcGisMcpError {
  return new ArcGisMcpError(
    'ARCGIS_TOKEN_INVALID',
    'The portal does not accept this token (expired, revoked, or from another portal).',
    {
      nextStep: 'Generate a new token, or sign in with ArcGIS instead.',
    },
  );
}
