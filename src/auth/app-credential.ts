import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import { requestAppToken } from '../arcgis/oauth.js';
import type { ProfileConfig } from '../config.js';
import { registerSecret } from '../redact.js';
import type { Credential } from './credential.js';

/**
 * A 2-legged app credential (client_credentials, arcgis-protocol.md §3), present only when the
 * configuration holds a client secret. It represents the app, not a user: bind-token.ts refuses
 * to send it to content (NET-TWO-LEGGED). It is fetched lazily, only when something may use it
 * (location services, public content), never to reach org data.
 */
export class AppCredentialSource {
  private cached: Credential | null = null;
  /** An app token handed to us (API key, an app's temporary token), classified as such. */
  private adopted: (Credential & { appTitle?: string }) | null = null;

  constructor(
    private readonly profile: ProfileConfig,
    private readonly http: ArcGisHttpClient,
    private readonly now: () => number = Date.now,
  ) {
    registerSecret(profile.clientSecret);
  }

  /** An app credential exists: a client secret is configured, or an app token was adopted. */
  get configured(): boolean {
    return !!(this.profile.clientId && this.profile.clientSecret) || this.current !== null;
  }

  get current(): Credential | null {
    for (const c of [this.adopted, this.cached]) if (c && c.accessExpiresAt > this.now()) return c;
    return null;
  }

  get source(): Credential['source'] | null {
    return this.current?.source ?? (this.profile.clientSecret ? 'client-credentials' : null);
  }

  /** Keeps a token classified as an app's. It is still never sent to org content (NET-TWO-LEGGED). */
  adopt(input: {
    accessToken: string;
    accessExpiresAt: number;
    source: 'pasted-token' | 'environment-token';
  }): void {
    registerSecret(input.accessToken);
    this.adopted = {
      kind: 'app',
      source: input.source,
      portalUrl: this.profile.portalUrl.href,
      username: undefined,
      accessToken: input.accessToken,
      accessExpiresAt: input.accessExpiresAt,
    };
  }

  forget(): void {
    this.adopted = null;
    this.cached = null;
  }

  async get(): Promise<Credential | null> {
    if (this.adopted && this.adopted.accessExpiresAt > this.now()) return this.adopted;
    if (!this.configured || !this.profile.clientId || !this.profile.clientSecret) return null;
    if (this.cached && this.cached.accessExpiresAt - this.now() > 5 * 60 * 1000) return this.cached;
    const grant = await requestAppToken(this.http, {
      restUrl: this.profile.restUrl,
      clientId: this.profile.clientId,
      clientSecret: this.profile.clientSecret,
    });
    registerSecret(grant.accessToken);
    this.cached = {
      kind: 'app',
      source: 'client-credentials',
      portalUrl: this.profile.portalUrl.href,
      username: undefined,
      accessToken: grant.accessToken,
      accessExpiresAt: grant.accessExpiresAt,
    };
    return this.cached;
  }
}
