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

  constructor(
    private readonly profile: ProfileConfig,
    private readonly http: ArcGisHttpClient,
    private readonly now: () => number = Date.now,
  ) {
    registerSecret(profile.clientSecret);
  }

  get configured(): boolean {
    return !!(this.profile.clientId && this.profile.clientSecret);
  }

  get current(): Credential | null {
    return this.cached && this.cached.accessExpiresAt > this.now() ? this.cached : null;
  }

  async get(): Promise<Credential | null> {
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
