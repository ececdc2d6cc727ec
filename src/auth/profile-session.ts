import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import {
  exchangeRefreshToken,
  redeemAuthorizationCode,
  refreshAccessToken,
  revokeToken,
  type TokenGrant,
} from '../arcgis/oauth.js';
import { getCommunitySelf, getPortalSelf } from '../arcgis/portal.js';
import type { ProfileConfig } from '../config.js';
import { ArcGisMcpError, isArcGisMcpError } from '../errors.js';
import type { Logger } from '../log.js';
import { registerSecret } from '../redact.js';
import { bindToken } from './bind-token.js';
import type { Credential } from './credential.js';
import type { HostPolicy } from './host-policy.js';
import { withFileLock } from './lock/file-lock.js';
import type { ValidatedSignIn } from './pending-sign-ins.js';
import type { SecretStore } from './store/secret-store.js';

/**
 * One profile's user session: the access token in memory, the refresh token in the secret store
 * (STORE-KEYCHAIN-FIRST), and the lifecycle rules of arcgis-protocol.md §3 and security.md:
 * - REL-PROACTIVE: refresh 5 minutes before the access token expires; exchange the refresh token
 *   (rotation) when it has less than 24 hours left.
 * - REL-SINGLE-FLIGHT: one refresh in flight per process (a shared promise), and rotation under a
 *   file lock so two processes on one keychain entry never both rotate it.
 * - STORE-ROTATION-SAFE: a rotated refresh token is saved before success is reported.
 * - REL-REACTIVE: after a 498, refresh once; when the refresh token itself is dead, one clear
 *   "sign in again" error, and the dead entry is deleted so it cannot loop.
 */
export const ACCESS_REFRESH_MARGIN_MS = 5 * 60 * 1000;
export const REFRESH_ROTATION_MARGIN_MS = 24 * 60 * 60 * 1000;

export interface Identity {
  username: string;
  fullName: string | undefined;
  role: string | undefined;
  orgId: string | undefined;
  orgName: string | undefined;
}

/** What the secret store holds for a profile (one JSON value under one account). */
interface StoredSession {
  v: 1;
  portalUrl: string;
  clientId: string;
  username: string;
  refreshToken: string;
  refreshExpiresAt: number;
  savedAt: number;
}

export interface SessionStatus {
  signedIn: boolean;
  identity: Identity | null;
  credentialKind: 'user' | 'app' | null;
  credentialSource: Credential['source'] | null;
  accessExpiresAt: number | null;
  refreshExpiresAt: number | null;
  refreshTokenStoredIn: string | null;
  /** Why the session is not usable, when something went wrong (keychain locked, session expired). */
  problem: string | null;
}

export interface ProfileSessionDeps {
  profile: ProfileConfig;
  http: ArcGisHttpClient;
  store: SecretStore;
  policy: HostPolicy;
  log: Logger;
  lockDir: string;
  now?: () => number;
}

export class ProfileSession {
  private access: Credential | null = null;
  private refresh: { token: string; expiresAt: number } | null = null;
  private identity: Identity | null = null;
  private problem: string | null = null;
  private inFlight: Promise<Credential> | null = null;
  /** Re-issues a token without a refresh token (environment username + password, §4): generateToken again. */
  private renewer: (() => Promise<{ token: string; expiresAt: number }>) | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: ProfileSessionDeps) {
    this.now = deps.now ?? Date.now;
  }

  get profile(): ProfileConfig {
    return this.deps.profile;
  }

  /** The secret-store account: one entry per profile and portal (STORE-KEYCHAIN-FIRST). */
  get account(): string {
    return `${this.deps.profile.name}@${this.deps.profile.portalUrl.href.replace(/\/+$/, '')}`;
  }

  private get lockPath(): string {
    const id = createHash('sha256').update(this.account).digest('hex').slice(0, 16);
    return join(this.deps.lockDir, `session-${id}.lock`);
  }

  /** On start: pick up the refresh token a previous run left in the store. Never throws. */
  async restore(): Promise<boolean> {
    try {
      const stored = await this.readStored();
      if (!stored) return false;
      this.adopt(stored);
      this.deps.log.info('session restored from the secret store', {
        profile: this.profile.name,
        username: stored.username,
        store: this.deps.store.kind,
      });
      return true;
    } catch (e) {
      this.problem = isArcGisMcpError(e) ? e.toUserText() : 'The secret store could not be read.';
      this.deps.log.warn('could not restore the session', { profile: this.profile.name, error: e });
      return false;
    }
  }

  /** Records why the profile is not signed in (shown by arcgis_whoami). */
  reportProblem(text: string): void {
    this.problem = text;
  }

  /** True when a user session exists (in memory or restorable), whether or not its access token is fresh. */
  get hasUserSession(): boolean {
    return (
      this.refresh !== null ||
      (this.access !== null && (this.access.accessExpiresAt > this.now() || this.renewer !== null))
    );
  }

  /**
   * A fresh user credential, refreshing it first when it expires within 5 minutes
   * (REL-PROACTIVE). Null when nobody is signed in. Throws ARCGIS_SESSION_EXPIRED when the refresh
   * token no longer works.
   */
  async userCredential(): Promise<Credential | null> {
    const now = this.now();
    if (this.access && this.access.accessExpiresAt - now > ACCESS_REFRESH_MARGIN_MS) return this.access;
    if (!this.refresh && this.renewer && this.access) return this.refreshOnce();
    if (!this.refresh) {
      if (this.access && this.access.accessExpiresAt > now) return this.access;
      this.access = null;
      // Signed in elsewhere since we started (`arcgis-mcp login`, another server)? Same store.
      if (!(await this.pickUpStoredSession())) return null;
    }
    return this.refreshOnce();
  }

  /**
   * Adopts a session another process saved in the shared store (a terminal `arcgis-mcp login`
   * while this server runs). Only asked when nobody is signed in here, and a store read costs about
   * a millisecond (`npm run bench`), so it is not rate-limited. True when one was found.
   */
  async pickUpStoredSession(): Promise<boolean> {
    if (this.refresh) return false;
    const stored = await this.readStored().catch(() => null);
    if (!stored || stored.refreshExpiresAt <= this.now()) return false;
    this.adopt(stored);
    this.deps.log.info('picked up a session saved by another process', { profile: this.profile.name });
    return true;
  }

  /** REL-REACTIVE: the portal rejected `rejected` (498); refresh once unless someone already did. */
  async afterRejection(rejected: Credential): Promise<Credential | null> {
    if (this.access && this.access.accessToken !== rejected.accessToken) return this.access;
    if (!this.refresh && !this.renewer) {
      this.access = null;
      return null;
    }
    return this.refreshOnce();
  }

  /** REL-SINGLE-FLIGHT (in process): concurrent callers share one refresh. */
  private refreshOnce(): Promise<Credential> {
    this.inFlight ??= this.doRefresh().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async doRefresh(): Promise<Credential> {
    const rt = this.refresh;
    if (!rt && this.renewer && this.access) return this.renew(this.access, this.renewer);
    if (!rt) throw this.signInRequired();
    if (rt.expiresAt <= this.now()) return this.expire('The refresh token has expired.');
    try {
      if (rt.expiresAt - this.now() < REFRESH_ROTATION_MARGIN_MS) return await this.rotate();
      return await this.refreshWith(rt.token, this.identity?.username);
    } catch (e) {
      if (!isDeadRefreshToken(e)) throw e;
      // Another process may have rotated the token we hold (REL-SINGLE-FLIGHT across processes):
      // the store then has a newer one. Adopt it and try once more before giving up.
      const stored = await this.readStored().catch(() => null);
      if (stored && stored.refreshToken !== rt.token && stored.refreshExpiresAt > this.now()) {
        this.adopt(stored);
        const adopted = await this.refreshWith(stored.refreshToken, stored.username).catch((e2: unknown) => {
          if (isDeadRefreshToken(e2)) return null;
          throw e2;
        });
        if (adopted) return adopted;
      }
      return this.expire('The portal no longer accepts the refresh token (expired or revoked).');
    }
  }

  /** grant_type=refresh_token: a new access token for the same refresh token. */
  private async refreshWith(refreshToken: string, username: string | undefined): Promise<Credential> {
    const grant = await refreshAccessToken(
      this.deps.http,
      { restUrl: this.profile.restUrl, clientId: this.clientId(), refreshToken },
      this.now(),
    );
    return this.setAccess(grant, username);
  }

  /**
   * exchange_refresh_token under the cross-process lock (arcgis-protocol.md §3: the old refresh
   * token and its access tokens die, so only one process may do it).
   */
  private async rotate(): Promise<Credential> {
    return withFileLock(this.lockPath, async () => {
      const current = this.refresh;
      if (!current) throw this.signInRequired();
      const stored = await this.readStored();
      if (stored && stored.refreshToken !== current.token) {
        // Someone rotated while we waited for the lock: use theirs with a plain refresh, whatever
        // its remaining lifetime. Exchanging it again would kill the other process's tokens, and
        // with refresh tokens capped under a day the two would rotate back and forth for ever.
        this.adopt(stored);
        return this.refreshWith(stored.refreshToken, stored.username);
      }
      const from = this.refresh ?? current;
      const grant = await exchangeRefreshToken(
        this.deps.http,
        {
          restUrl: this.profile.restUrl,
          clientId: this.clientId(),
          redirectUri: this.profile.redirectUri,
          refreshToken: from.token,
        },
        this.now(),
      );
      const username = grant.username ?? this.identity?.username;
      if (!grant.refreshToken || !username) {
        throw new ArcGisMcpError(
          'ARCGIS_BAD_RESPONSE',
          'The portal rotated the session but returned no refresh token.',
        );
      }
      registerSecret(grant.refreshToken);
      // Keep the new token in memory first: the old one is already dead at the portal.
      this.refresh = { token: grant.refreshToken, expiresAt: grant.refreshExpiresAt ?? this.now() };
      const credential = this.setAccess(grant, username);
      // STORE-ROTATION-SAFE: the rotated token is durable before anyone hears of success.
      await this.save(username);
      this.deps.log.info('refresh token rotated', { profile: this.profile.name });
      return credential;
    });
  }

  /**
   * Finishes a sign-in: redeems the code with the PKCE verifier of the validated pending sign-in,
   * checks who signed in, saves the refresh token, and only then reports success.
   */
  async completeOAuth(pending: ValidatedSignIn, code: string): Promise<Identity> {
    registerSecret(code);
    const grant = await redeemAuthorizationCode(
      this.deps.http,
      {
        restUrl: this.profile.restUrl,
        clientId: pending.clientId,
        code,
        redirectUri: pending.redirectUri,
        codeVerifier: pending.codeVerifier,
      },
      this.now(),
    ).catch((e: unknown) => {
      throw codeRejected(e);
    });
    return this.acceptUserGrant(grant);
  }

  private async acceptUserGrant(grant: TokenGrant): Promise<Identity> {
    registerSecret(grant.accessToken);
    registerSecret(grant.refreshToken);
    const provisional: Credential = {
      kind: 'user',
      source: 'oauth',
      portalUrl: this.profile.portalUrl.href,
      username: grant.username,
      accessToken: grant.accessToken,
      accessExpiresAt: grant.accessExpiresAt,
    };
    const identity = await this.verifyIdentity(provisional);
    if (grant.username && grant.username !== identity.username) {
      throw new ArcGisMcpError(
        'ARCGIS_BAD_RESPONSE',
        'The portal reported two different users for one sign-in.',
      );
    }
    this.identity = identity;
    this.access = { ...provisional, username: identity.username };
    this.renewer = null;
    this.problem = null;
    if (grant.refreshToken) {
      this.refresh = {
        token: grant.refreshToken,
        expiresAt: grant.refreshExpiresAt ?? grant.accessExpiresAt,
      };
      await this.save(identity.username);
    }
    return identity;
  }

  /**
   * Adopts a user token that came without a refresh token: a generateToken token (Section B or D),
   * or a pasted token already classified as a user's. It lives in memory only (a pasted token is
   * short-lived and cannot be refreshed); `renew`, when given, re-issues it before it expires
   * (environment username + password).
   */
  async adoptUserToken(input: {
    accessToken: string;
    accessExpiresAt: number;
    source: 'generate-token' | 'pasted-token' | 'environment-token';
    referer?: string;
    identity?: Identity;
    renew?: () => Promise<{ token: string; expiresAt: number }>;
  }): Promise<Identity> {
    registerSecret(input.accessToken);
    const credential: Credential = {
      kind: 'user',
      source: input.source,
      portalUrl: this.profile.portalUrl.href,
      username: input.identity?.username,
      accessToken: input.accessToken,
      accessExpiresAt: input.accessExpiresAt,
      ...(input.referer ? { referer: input.referer } : {}),
    };
    const identity = input.identity ?? (await this.verifyIdentity(credential));
    // A different sign-in replaces an OAuth session: drop its refresh token from memory (the stored
    // copy stays until logout, so a restart goes back to it).
    this.refresh = null;
    this.identity = identity;
    this.access = { ...credential, username: identity.username };
    this.renewer = input.renew ?? null;
    this.problem = null;
    return identity;
  }

  private async renew(
    current: Credential,
    renewer: () => Promise<{ token: string; expiresAt: number }>,
  ): Promise<Credential> {
    const next = await renewer();
    registerSecret(next.token);
    this.access = { ...current, accessToken: next.token, accessExpiresAt: next.expiresAt };
    return this.access;
  }

  /** community/self (who) and portals/self (which org), with the new token, at the portal only. */
  private async verifyIdentity(credential: Credential): Promise<Identity> {
    const { http, policy } = this.deps;
    const restUrl = this.profile.restUrl;
    const token = bindToken(credential, restUrl, policy, 'identity');
    const user = await getCommunitySelf(http, restUrl, token);
    const org = await getPortalSelf(http, restUrl, token).catch(() => null);
    return {
      username: user.username,
      fullName: user.fullName,
      role: user.role,
      orgId: user.orgId ?? org?.id,
      orgName: org?.name,
    };
  }

  /** Identity for whoami; refreshes first (so a restored session shows real data). */
  async whoami(): Promise<Identity | null> {
    const credential = await this.userCredential();
    if (!credential) return null;
    if (!this.identity || this.identity.orgName === undefined)
      this.identity = await this.verifyIdentity(credential);
    return this.identity;
  }

  /**
   * Sign-out: revoke the refresh token at the portal (which kills its access tokens, §3), then
   * delete every stored copy (STORE-EXPLICIT-FALLBACK: "Sign-out deletes every copy").
   */
  async logout(): Promise<{ revoked: boolean; deleted: boolean }> {
    // Only OAuth tokens can be revoked; generateToken and app tokens cannot (arcgis-protocol.md §3).
    // The stored refresh token is revoked too: a later sign-in (a pasted token, a password) may have
    // replaced the OAuth session in memory while its refresh token still lives in the store.
    const stored = await this.readStored().catch(() => null);
    const tokens = new Map<string, 'refresh_token' | 'access_token'>();
    if (this.refresh) tokens.set(this.refresh.token, 'refresh_token');
    if (stored) tokens.set(stored.refreshToken, 'refresh_token');
    if (!this.refresh && this.access?.source === 'oauth') tokens.set(this.access.accessToken, 'access_token');
    let revoked = false;
    if (this.profile.clientId) {
      for (const [token, hint] of tokens) {
        await revokeToken(this.deps.http, {
          restUrl: this.profile.restUrl,
          clientId: this.profile.clientId,
          token,
          hint,
        })
          .then(() => (revoked = true))
          .catch((e: unknown) => this.deps.log.warn('revoke failed', { error: e }));
      }
    }
    this.access = null;
    this.refresh = null;
    this.renewer = null;
    this.identity = null;
    this.problem = null;
    const deleted = await this.deps.store.delete(this.account);
    return { revoked, deleted };
  }

  status(): SessionStatus {
    const now = this.now();
    const signedIn =
      this.refresh !== null ||
      (this.access !== null && (this.access.accessExpiresAt > now || this.renewer !== null));
    return {
      signedIn,
      identity: signedIn ? this.identity : null,
      credentialKind: signedIn ? 'user' : null,
      credentialSource: signedIn ? (this.access?.source ?? 'oauth') : null,
      accessExpiresAt: signedIn && this.access ? this.access.accessExpiresAt : null,
      refreshExpiresAt: this.refresh?.expiresAt ?? null,
      refreshTokenStoredIn: this.refresh ? this.deps.store.describe() : null,
      problem: this.problem,
    };
  }

  private setAccess(grant: TokenGrant, username: string | undefined): Credential {
    registerSecret(grant.accessToken);
    this.access = {
      kind: 'user',
      source: 'oauth',
      portalUrl: this.profile.portalUrl.href,
      username: username ?? grant.username,
      accessToken: grant.accessToken,
      accessExpiresAt: grant.accessExpiresAt,
    };
    this.problem = null;
    return this.access;
  }

  private adopt(stored: StoredSession): void {
    registerSecret(stored.refreshToken);
    this.refresh = { token: stored.refreshToken, expiresAt: stored.refreshExpiresAt };
    if (this.identity?.username !== stored.username) {
      this.identity = {
        username: stored.username,
        fullName: undefined,
        role: undefined,
        orgId: undefined,
        orgName: undefined,
      };
    }
    this.access = null;
  }

  private async save(username: string): Promise<void> {
    if (!this.refresh) return;
    const record: StoredSession = {
      v: 1,
      portalUrl: this.profile.portalUrl.href,
      clientId: this.clientId(),
      username,
      refreshToken: this.refresh.token,
      refreshExpiresAt: this.refresh.expiresAt,
      savedAt: this.now(),
    };
    try {
      await this.deps.store.set(this.account, JSON.stringify(record));
    } catch (e) {
      this.problem = 'The refresh token could not be saved: the session will not survive a restart.';
      throw new ArcGisMcpError(
        'KEYCHAIN_UNAVAILABLE',
        `Signed in as ${username}, but the refresh token could not be saved to ${this.deps.store.describe()}; this session works until the server stops.`,
        {
          cause: e,
          nextStep:
            'Tell the user to unlock their keychain (or set ARCGIS_TOKEN_STORE=file to opt in to a 0600 file), then sign in again with arcgis_auth_url to make the session last.',
        },
      );
    }
  }

  private async readStored(): Promise<StoredSession | null> {
    const raw = await this.deps.store.get(this.account);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<StoredSession>;
      if (
        parsed.v !== 1 ||
        typeof parsed.refreshToken !== 'string' ||
        typeof parsed.username !== 'string' ||
        typeof parsed.refreshExpiresAt !== 'number' ||
        parsed.portalUrl !== this.profile.portalUrl.href
      ) {
        return null;
      }
      if (parsed.clientId && this.profile.clientId && parsed.clientId !== this.profile.clientId) return null;
      return parsed as StoredSession;
    } catch {
      return null;
    }
  }

  private async expire(reason: string): Promise<never> {
    const who = this.identity?.username;
    this.access = null;
    this.refresh = null;
    // Delete the dead entry so the next start does not try it again (no loop).
    await this.deps.store.delete(this.account).catch(() => false);
    this.problem = `${reason} Sign in again.`;
    throw new ArcGisMcpError(
      'ARCGIS_SESSION_EXPIRED',
      `The ArcGIS sign-in${who ? ` of ${who}` : ''} for profile "${this.profile.name}" has ended: ${reason}`,
      {
        nextStep:
          'Call arcgis_auth_url and ask the user to sign in again with the link; then call arcgis_exchange_code.',
      },
    );
  }

  private clientId(): string {
    const id = this.profile.clientId;
    if (!id) {
      throw new ArcGisMcpError('CONFIG_INVALID', 'ARCGIS_CLIENT_ID is not set.', {
        nextStep:
          'Ask the user to register an OAuth app in their ArcGIS org (see the README) and set ARCGIS_CLIENT_ID in the server configuration.',
      });
    }
    return id;
  }

  private signInRequired(): ArcGisMcpError {
    return new ArcGisMcpError(
      'ARCGIS_SIGN_IN_REQUIRED',
      `Nobody is signed in to profile "${this.profile.name}".`,
      {
        nextStep: 'Call arcgis_auth_url and ask the user to sign in with the link.',
      },
    );
  }
}

/** The token endpoint refused the refresh token itself (expired, revoked, unknown): not a transient fault. */
function isDeadRefreshToken(e: unknown): boolean {
  return (
    isArcGisMcpError(e) &&
    (e.code === 'ARCGIS_TOKEN_INVALID' ||
      e.code === 'ARCGIS_BAD_REQUEST' ||
      e.code === 'ARCGIS_PERMISSION_DENIED' ||
      e.code === 'ARCGIS_SIGN_IN_REQUIRED')
  );
}

function codeRejected(e: unknown): unknown {
  if (!isArcGisMcpError(e) || e.retryable || e.code === 'CANCELLED') return e;
  return new ArcGisMcpError(
    'OAUTH_CODE_REJECTED',
    `The portal did not accept the authorization code (${e.message}). Codes work once and for 10 minutes, and only with the sign-in link they came from.`,
    {
      cause: e,
      nextStep:
        'Call arcgis_auth_url for a new link, ask the user to sign in again and paste the new code, then call arcgis_exchange_code.',
    },
  );
}
