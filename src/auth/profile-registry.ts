import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import type { ProfileConfig, ServerConfig } from '../config.js';
import { ArcGisMcpError } from '../errors.js';
import type { Logger } from '../log.js';
import { AppCredentialSource } from './app-credential.js';
import { HostPolicy } from './host-policy.js';
import { ProfileSession } from './profile-session.js';
import type { SecretStore } from './store/secret-store.js';

/**
 * The configured profiles (AUTH-PORTAL-FROM-CONFIG: portals come from configuration only), each
 * with its host policy, user session and optional app credential.
 */
export interface ProfileContext {
  config: ProfileConfig;
  isDefault: boolean;
  policy: HostPolicy;
  session: ProfileSession;
  app: AppCredentialSource;
}

export class ProfileRegistry {
  private readonly contexts = new Map<string, ProfileContext>();
  readonly defaultName: string;

  constructor(
    config: ServerConfig,
    deps: { http: ArcGisHttpClient; store: SecretStore; log: Logger; now?: () => number },
  ) {
    this.defaultName = config.defaultProfile;
    for (const profile of config.profiles) {
      const policy = HostPolicy.forPortal(profile.portalUrl, { trustedHosts: profile.trustedHosts });
      this.contexts.set(profile.name, {
        config: profile,
        isDefault: profile.name === config.defaultProfile,
        policy,
        session: new ProfileSession({
          profile,
          http: deps.http,
          store: deps.store,
          policy,
          log: deps.log.child({ profile: profile.name }),
          lockDir: `${config.configDir}/locks`,
          ...(deps.now ? { now: deps.now } : {}),
        }),
        app: new AppCredentialSource(profile, deps.http, deps.now),
      });
    }
  }

  get names(): string[] {
    return [...this.contexts.keys()];
  }

  all(): ProfileContext[] {
    return [...this.contexts.values()];
  }

  /** The named profile, or the default one. Unknown names are a clear error (tools also enumerate them). */
  get(name?: string): ProfileContext {
    const ctx = this.contexts.get(name ?? this.defaultName);
    if (!ctx) {
      throw new ArcGisMcpError('CONFIG_INVALID', `There is no profile named ${JSON.stringify(name)}.`, {
        nextStep: `Use one of: ${this.names.join(', ')}.`,
      });
    }
    return ctx;
  }

  /** The profile whose host policy allows `url` (the requested one only, when given). */
  ownerOf(url: URL, requested?: string): ProfileContext | undefined {
    if (requested !== undefined) {
      const ctx = this.get(requested);
      return ctx.policy.check(url).allowed ? ctx : undefined;
    }
    for (const ctx of this.contexts.values()) if (ctx.policy.check(url).allowed) return ctx;
    return undefined;
  }

  async restoreAll(): Promise<void> {
    await Promise.all(this.all().map((c) => c.session.restore()));
  }
}
