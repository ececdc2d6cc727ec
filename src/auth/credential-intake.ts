import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import { generateUserToken, withSlash } from '../arcgis/oauth.js';
import { ArcGisMcpError, isArcGisMcpError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { classifyToken, type TokenClass } from './classify-token.js';
import type { Identity } from './profile-session.js';
import type { ProfileContext } from './profile-registry.js';

/**
 * The ways in other than the OAuth redirect (product.md Sections B, C, D), shared by the local
 * sign-in page and the environment: a username + password (generateToken, referer-bound), or a
 * token someone generated or copied, classified before use (NET-TWO-LEGGED).
 */

/** The referer our generateToken tokens are bound to (arcgis-protocol.md §4: send it again on every use). */
export const TOKEN_REFERER = 'arcgis-mcp';
const GENERATED_TOKEN_MINUTES = 60;
/** A handed-in token's expiry is unknown to us; it is used until the portal says 498. */
const UNKNOWN_EXPIRY_MS = 14 * 24 * 60 * 60 * 1000;

export async function signInWithPassword(
  p: ProfileContext,
  http: ArcGisHttpClient,
  username: string,
  password: string,
  options: { keepRenewing: boolean },
): Promise<Identity> {
  registerSecret(password);
  const tokenServicesUrl = new URL('generateToken', withSlash(p.config.restUrl));
  const generate = async () => {
    try {
      const t = await generateUserToken(http, {
        tokenServicesUrl,
        username,
        password,
        referer: TOKEN_REFERER,
        expirationMinutes: GENERATED_TOKEN_MINUTES,
      });
      registerSecret(t.token);
      return { token: t.token, expiresAt: t.expiresAt };
    } catch (e) {
      throw passwordRefused(e, username);
    }
  };
  const first = await generate();
  return p.session.adoptUserToken({
    accessToken: first.token,
    accessExpiresAt: first.expiresAt,
    source: options.keepRenewing ? 'environment-token' : 'generate-token',
    referer: TOKEN_REFERER,
    // Scripts (Section D): re-generate before expiry for as long as the server runs.
    ...(options.keepRenewing ? { renew: generate } : {}),
  });
}

/** generateToken refuses SAML and MFA users the same way as a wrong password (arcgis-protocol.md §4 [U]). */
function passwordRefused(e: unknown, username: string): unknown {
  if (!isArcGisMcpError(e) || e.retryable || e.code === 'CANCELLED') return e;
  return new ArcGisMcpError(
    'OAUTH_CODE_REJECTED',
    `The portal did not accept the username and password of ${JSON.stringify(username)} (${e.message}).`,
    {
      cause: e,
      nextStep:
        'Check them; if the organisation signs in with SAML (enterprise login) or requires MFA, a password cannot work here: use "Sign in with ArcGIS" (arcgis_auth_url) instead.',
    },
  );
}

/** A token someone handed us: a user's is adopted as the session; an app's is kept as an app credential. */
export async function adoptHandedToken(
  p: ProfileContext,
  http: ArcGisHttpClient,
  token: string,
  source: 'pasted-token' | 'environment-token',
  now = Date.now(),
): Promise<TokenClass> {
  const t = token.trim();
  registerSecret(t);
  const cls = await classifyToken(http, p.config.restUrl, p.policy, t);
  if (cls.kind === 'user') {
    await p.session.adoptUserToken({
      accessToken: t,
      accessExpiresAt: now + UNKNOWN_EXPIRY_MS,
      source,
      identity: {
        username: cls.username,
        fullName: cls.fullName,
        role: cls.role,
        orgId: cls.orgId,
        orgName: cls.orgName,
      },
    });
  } else {
    p.app.adopt({ accessToken: t, accessExpiresAt: now + UNKNOWN_EXPIRY_MS, source });
  }
  return cls;
}
