import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import { generateServerToken, withSlash } from '../arcgis/oauth.js';
import { getRestInfo } from '../arcgis/portal.js';
import { ArcGisMcpError, isArcGisMcpError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { bindToken } from './bind-token.js';
import type { Credential } from './credential.js';
import type { ProfileContext, ProfileRegistry } from './profile-registry.js';

/**
 * ArcGIS Enterprise federated servers (arcgis-protocol.md §4, §5, §9, §11): a server on another
 * host receives a token only when its `{root}/rest/info` names one of our portals as
 * `owningSystemUrl` — compared as parsed URLs, never with a regular expression — and then only a
 * **server token**, minted by the portal's generateToken with `serverUrl`, cached per server until
 * shortly before it expires. Unfederated servers get nothing unless listed in
 * ARCGIS_TRUSTED_HOSTS (handled by the host policy).
 */
const INFO_TTL_MS = 10 * 60 * 1000;
const SERVER_TOKEN_MARGIN_MS = 5 * 60 * 1000;

interface InfoEntry {
  owner: string | null;
  owningSystemUrl: string | null;
  at: number;
}

export class FederatedServers {
  private readonly infoByRoot = new Map<string, InfoEntry>();
  private readonly tokens = new Map<string, Credential>();
  private readonly inFlight = new Map<string, Promise<Credential>>();

  constructor(
    private readonly http: ArcGisHttpClient,
    private readonly profiles: ProfileRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  /** The profile whose portal owns the server at `serverRoot`, or null (unfederated, or federated elsewhere). */
  async ownerOf(
    serverRoot: URL,
    requested?: string,
  ): Promise<{ owner: ProfileContext | null; owningSystemUrl: string | null }> {
    const key = normaliseRoot(serverRoot);
    let entry = this.infoByRoot.get(key);
    if (!entry || this.now() - entry.at > INFO_TTL_MS) {
      let owningSystemUrl: string | null = null;
      try {
        const info = await getRestInfo(this.http, new URL('rest/info', withSlash(serverRoot)));
        owningSystemUrl = info.owningSystemUrl ?? null;
      } catch (e) {
        if (!isArcGisMcpError(e) || e.retryable) throw e;
      }
      const owner = owningSystemUrl ? this.matchPortal(owningSystemUrl) : null;
      entry = { owner: owner?.config.name ?? null, owningSystemUrl, at: this.now() };
      this.infoByRoot.set(key, entry);
    }
    if (!entry.owner || (requested !== undefined && requested !== entry.owner)) {
      return { owner: null, owningSystemUrl: entry.owningSystemUrl };
    }
    return { owner: this.profiles.get(entry.owner), owningSystemUrl: entry.owningSystemUrl };
  }

  /** A server token for `serverRoot`, minted from the user's portal token; cached per user and server. */
  serverToken(owner: ProfileContext, serverRoot: URL, user: Credential): Promise<Credential> {
    const key = `${owner.config.name}|${user.username ?? ''}|${normaliseRoot(serverRoot)}`;
    const cached = this.tokens.get(key);
    if (cached && cached.accessExpiresAt - this.now() > SERVER_TOKEN_MARGIN_MS)
      return Promise.resolve(cached);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.mint(owner, serverRoot, user)
        .then((c) => {
          this.tokens.set(key, c);
          return c;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** After a 498 from the server: forget its token so the next call mints a new one. */
  invalidate(owner: ProfileContext, serverRoot: URL, user: Credential): void {
    this.tokens.delete(`${owner.config.name}|${user.username ?? ''}|${normaliseRoot(serverRoot)}`);
  }

  private async mint(owner: ProfileContext, serverRoot: URL, user: Credential): Promise<Credential> {
    // §11: the token service is named by the portal's own /info; it must be the portal's origin,
    // since the portal token travels to it (in a POST body, AUTH-TOKEN-ENDPOINT).
    let tokenServicesUrl = new URL('generateToken', withSlash(owner.config.restUrl));
    try {
      const info = await getRestInfo(this.http, new URL('info', withSlash(owner.config.restUrl)));
      const named = info.authInfo?.tokenServicesUrl;
      if (named) {
        const u = new URL(named, owner.config.restUrl);
        if (u.origin === owner.config.restUrl.origin) tokenServicesUrl = u;
      }
    } catch (e) {
      if (!isArcGisMcpError(e) || e.retryable) throw e;
    }
    // The portal token may go only where the policy allows (the portal), re-checked here.
    bindToken(user, tokenServicesUrl, owner.policy, 'identity');
    const serverUrl = serverRoot.href.replace(/\/+$/, '');
    const t = await generateServerToken(this.http, {
      tokenServicesUrl,
      portalToken: user.accessToken,
      serverUrl,
      ...(user.referer ? { referer: user.referer } : {}),
    }).catch((e: unknown) => {
      // A dead portal token is the caller's to refresh (REL-REACTIVE), not a permission problem.
      if (isArcGisMcpError(e) && (e.code === 'ARCGIS_TOKEN_INVALID' || e.retryable)) throw e;
      throw new ArcGisMcpError(
        'ARCGIS_PERMISSION_DENIED',
        `The portal would not issue a token for the federated server ${serverRoot.host}${isArcGisMcpError(e) ? ` (${e.message})` : ''}.`,
        {
          cause: e,
          nextStep:
            'Ask an ArcGIS administrator whether this server is federated with the portal and the user may use it.',
        },
      );
    });
    registerSecret(t.token);
    return {
      kind: 'user',
      source: user.source,
      portalUrl: user.portalUrl,
      username: user.username,
      accessToken: t.token,
      accessExpiresAt: t.expiresAt,
    };
  }

  private matchPortal(owningSystemUrl: string): ProfileContext | null {
    let owning: URL;
    try {
      owning = new URL(owningSystemUrl);
    } catch {
      return null;
    }
    const target = normaliseRoot(owning);
    for (const p of this.profiles.all()) if (normaliseRoot(p.config.portalUrl) === target) return p;
    return null;
  }
}

/** scheme://host:port/path, lower-cased, default port explicit, no trailing slash, no query. */
export function normaliseRoot(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  const path = url.pathname.replace(/\/+$/, '').toLowerCase();
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${path}`;
}
