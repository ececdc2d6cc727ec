import type { OriginBoundToken } from '../arcgis/http-client.js';
import { ArcGisMcpError } from '../errors.js';
import type { Credential } from './credential.js';
import type { HostPolicy } from './host-policy.js';
import { isLoopbackHostname } from './service-url.js';

/**
 * The only way to put a token on a request (style.md: "a SignedRequest can only be built by the
 * host policy"). It enforces, in this order:
 * - NET-TWO-LEGGED: an app token never goes to portal content or a feature service;
 * - NET-ALLOWLIST: the URL's origin must be allowed by the profile's host policy.
 * The result is bound to the URL's origin; the HTTP client drops it on any other origin
 * (NET-REDIRECTS).
 */
export type TokenPurpose =
  /** Feature services, portal items: org content, user tokens only. */
  | 'content'
  /** community/self, portals/self, generateToken: identity and discovery at the portal itself. */
  | 'identity';

export function bindToken(
  credential: Credential,
  url: URL,
  policy: HostPolicy,
  purpose: TokenPurpose,
): OriginBoundToken {
  if (purpose === 'content' && credential.kind !== 'user') {
    throw appTokenRefused();
  }
  const decision = policy.check(url);
  if (!decision.allowed) {
    throw new ArcGisMcpError('ARCGIS_HOST_NOT_TRUSTED', `No token was sent: ${decision.why}`, {
      nextStep:
        'If this server belongs to your organisation, ask the user to add its host to ARCGIS_TRUSTED_HOSTS in the server configuration; otherwise use a URL on the portal or its hosting servers.',
    });
  }
  return {
    token: credential.accessToken,
    origin: url.origin,
    ...(credential.referer ? { referer: credential.referer } : {}),
  };
}

/**
 * A federated server's own token goes only to that server (its origin was verified through
 * `owningSystemUrl`, federation.ts), never the portal token (arcgis-protocol.md §11).
 */
export function bindServerToken(
  serverToken: Credential,
  url: URL,
  verifiedServerRoot: URL,
): OriginBoundToken {
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHostname(url.hostname));
  if (url.origin !== verifiedServerRoot.origin || !secure || url.username || url.password) {
    throw new ArcGisMcpError(
      'ARCGIS_HOST_NOT_TRUSTED',
      `No token was sent: ${url.host} is not the verified federated server.`,
    );
  }
  return { token: serverToken.accessToken, origin: url.origin };
}

export function appTokenRefused(): ArcGisMcpError {
  return new ArcGisMcpError(
    'ARCGIS_APP_TOKEN_REFUSED',
    "This service needs a signed-in user, and the only credential available is an app token (2-legged: client credentials, an API key or an app's temporary token). App tokens represent the application, not a person, so they cannot see org-private content; the request was not sent.",
    {
      nextStep:
        'Sign the user in: call arcgis_auth_url and have the user open the link with their own ArcGIS account (SAML and MFA work there), then call arcgis_exchange_code.',
    },
  );
}
