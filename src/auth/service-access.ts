import type { ArcGisHttpClient, OriginBoundToken, Params } from '../arcgis/http-client.js';
import { ArcGisMcpError, isArcGisMcpError } from '../errors.js';
import { appTokenRefused, bindServerToken, bindToken } from './bind-token.js';
import type { Credential } from './credential.js';
import { FederatedServers } from './federation.js';
import { InMemoryNeedsToken, type NeedsTokenMemory } from './needs-token-memory.js';
import type { ProfileContext, ProfileRegistry } from './profile-registry.js';

/**
 * The decision tree of product.md for one request to an ArcGIS service:
 * 1. NET-PUBLIC-FIRST: try anonymously, unless this service is known to need a token.
 * 2. On 499/403 (or a remembered "needs a token"), use the user session of the profile that owns
 *    the host (NET-ALLOWLIST), refreshed when expiring (REL-PROACTIVE).
 * 3. No session: a sign-in is required; an app token is never sent (NET-TWO-LEGGED).
 * 4. REL-REACTIVE: on 498 (or 499 with a token) refresh once and retry once.
 */
export interface AccessResult {
  body: unknown;
  /** Who the answer was fetched as: null for anonymous. */
  as: { profile: string; username: string } | null;
}

export interface AccessRequest {
  url: URL;
  method?: 'GET' | 'POST';
  params?: Params;
  /** Identifies the service for the "needs a token" memory: the FeatureServer/MapServer root. */
  serviceKey: string;
  /** The ArcGIS Server root (before `/rest/services/`), for the federation check (§11). */
  serverRoot?: URL;
  /** A profile the caller asked for; otherwise the one whose policy allows the host. */
  profile?: string | undefined;
  signal?: AbortSignal;
}

export class ServiceAccess {
  private readonly federation: FederatedServers;

  constructor(
    private readonly http: ArcGisHttpClient,
    private readonly profiles: ProfileRegistry,
    now: () => number = Date.now,
    /** NET-PUBLIC-FIRST memory: service root → needs a token. Not a secret. */
    private readonly needsToken: NeedsTokenMemory = new InMemoryNeedsToken(),
  ) {
    this.federation = new FederatedServers(http, profiles, now);
  }

  rememberedNeedsToken(serviceKey: string): boolean | undefined {
    return this.needsToken.get(serviceKey);
  }

  async request(req: AccessRequest): Promise<AccessResult> {
    const owner = this.profiles.ownerOf(req.url, req.profile);
    if (this.needsToken.get(req.serviceKey) !== true) {
      try {
        const body = await this.send(req);
        this.needsToken.set(req.serviceKey, false);
        return { body, as: null };
      } catch (e) {
        if (!needsUser(e)) throw e;
        this.needsToken.set(req.serviceKey, true);
      }
    }
    if (!owner && req.serverRoot) {
      const fed = await this.federation.ownerOf(req.serverRoot, req.profile);
      if (fed.owner) return this.requestAsFederated(req, fed.owner, req.serverRoot);
    }
    if (!owner) {
      throw new ArcGisMcpError(
        'ARCGIS_HOST_NOT_TRUSTED',
        `This service needs a signed-in user, but its host (${req.url.host}) is neither a configured portal's nor a server federated with one, so no token is sent to it.`,
        {
          nextStep:
            "If the service belongs to the user's organisation, ask them to add its host to ARCGIS_TRUSTED_HOSTS (or configure a profile for its portal) and restart the server.",
        },
      );
    }
    return this.requestAsUser(req, owner);
  }

  /** A server of the portal (or a trusted host): the user's portal token. */
  private requestAsUser(req: AccessRequest, owner: ProfileContext): Promise<AccessResult> {
    return this.withUserSession(req, owner, (user) =>
      this.send(req, { token: bindToken(user, req.url, owner.policy, 'content') }),
    );
  }

  /** A federated server: its own server token, never the portal token (§11). */
  private requestAsFederated(
    req: AccessRequest,
    owner: ProfileContext,
    serverRoot: URL,
  ): Promise<AccessResult> {
    return this.withUserSession(
      req,
      owner,
      async (user) => {
        const serverToken = await this.federation.serverToken(owner, serverRoot, user);
        return this.send(req, { token: bindServerToken(serverToken, req.url, serverRoot) });
      },
      (user) => this.federation.invalidate(owner, serverRoot, user),
    );
  }

  /**
   * Runs `attempt` with the profile's user credential (never an app token: NET-TWO-LEGGED).
   * REL-REACTIVE: a 498 (or 499 with a token) — from the service, or from the portal while minting
   * a server token — refreshes the session once and retries once.
   */
  private async withUserSession(
    req: AccessRequest,
    owner: ProfileContext,
    attempt: (user: Credential) => Promise<unknown>,
    onRejected?: (user: Credential) => void,
  ): Promise<AccessResult> {
    let user = await owner.session.userCredential();
    if (!user) {
      if (owner.app.configured) throw appTokenRefused();
      throw signInRequired(owner);
    }
    for (let tries = 0; ; tries++) {
      try {
        const body = await attempt(user);
        return { body, as: { profile: owner.config.name, username: user.username ?? '' } };
      } catch (e) {
        const rejected =
          isArcGisMcpError(e) && (e.code === 'ARCGIS_TOKEN_INVALID' || e.code === 'ARCGIS_SIGN_IN_REQUIRED');
        if (!rejected || tries > 0) throw explainAsUser(e, user, owner, req.url);
        onRejected?.(user);
        const fresh = await owner.session.afterRejection(user);
        if (!fresh) throw signInRequired(owner);
        user = fresh;
      }
    }
  }

  private send(req: AccessRequest, auth?: { token: OriginBoundToken }): Promise<unknown> {
    return this.http.requestJson({
      url: req.url,
      method: req.method ?? 'GET',
      ...(req.params ? { params: req.params } : {}),
      ...(auth ? { token: auth.token } : {}),
      idempotent: true,
      ...(req.signal ? { signal: req.signal } : {}),
    });
  }
}

/** 499 Token Required and 403 mean "needs a user" on an anonymous request (product.md step 2). */
function needsUser(e: unknown): boolean {
  return (
    isArcGisMcpError(e) && (e.code === 'ARCGIS_SIGN_IN_REQUIRED' || e.code === 'ARCGIS_PERMISSION_DENIED')
  );
}

export function signInRequired(owner: ProfileContext): ArcGisMcpError {
  return new ArcGisMcpError(
    'ARCGIS_SIGN_IN_REQUIRED',
    `This service is not public: it needs a signed-in ArcGIS user of ${owner.config.portalUrl.host}, and nobody is signed in to profile "${owner.config.name}".`,
    {
      nextStep: `Call arcgis_auth_url${owner.isDefault ? '' : ` with profile "${owner.config.name}"`}, give the user the link to sign in (SAML and MFA work there), then call arcgis_exchange_code and retry this query.`,
    },
  );
}

function explainAsUser(e: unknown, credential: Credential, owner: ProfileContext, url: URL): unknown {
  if (!isArcGisMcpError(e)) return e;
  const rejectedToken = e.code === 'ARCGIS_TOKEN_INVALID' || e.code === 'ARCGIS_SIGN_IN_REQUIRED';
  if (rejectedToken && url.origin !== owner.config.portalUrl.origin) {
    const decision = owner.policy.check(url);
    if (decision.allowed && decision.reason === 'trusted') {
      // A trusted host that is not the portal refused a freshly refreshed token: the session is
      // fine (the refresh worked); that server just does not take this portal's tokens.
      return new ArcGisMcpError(
        'ARCGIS_HOST_NOT_TRUSTED',
        `${url.host} does not accept tokens from ${owner.config.portalUrl.host} (it refused a freshly refreshed one); signing in again will not help.`,
        {
          cause: e,
          nextStep:
            'Tell the user this server is not federated with their portal: an ArcGIS administrator can federate it, or the data can be shared through the portal; otherwise export it as CSV.',
        },
      );
    }
  }
  if (e.code === 'ARCGIS_PERMISSION_DENIED') {
    return new ArcGisMcpError(
      'ARCGIS_PERMISSION_DENIED',
      `Signed in as ${credential.username ?? 'this user'}, ArcGIS still refuses access: ${e.message}`,
      {
        cause: e,
        nextStep:
          'Tell the user their account cannot see this item; the item owner or an org admin must share it with them (or a group they belong to).',
      },
    );
  }
  if (e.code === 'ARCGIS_TOKEN_INVALID' || e.code === 'ARCGIS_SIGN_IN_REQUIRED') {
    return new ArcGisMcpError(
      'ARCGIS_SESSION_EXPIRED',
      `ArcGIS rejected the session of ${credential.username ?? 'the user'} even after a refresh.`,
      {
        cause: e,
        nextStep: `Call arcgis_auth_url${owner.isDefault ? '' : ` with profile "${owner.config.name}"`} and ask the user to sign in again.`,
      },
    );
  }
  return e;
}
