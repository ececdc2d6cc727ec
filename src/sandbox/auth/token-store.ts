import { randomCode, randomToken } from '../random.js';

/** The realm a token is valid in: the portal (and its hosting server), or one ArcGIS Server root. */
export const PORTAL_REALM = 'portal';

export type AccessKind = 'user' | 'app' | 'server';

export interface AccessTokenRecord {
  kind: AccessKind;
  /** PORTAL_REALM, or the normalized root of the one server a server token is valid at (§4, §11). */
  realm: string;
  username: string | null;
  clientId: string | null;
  expiresAt: number;
  revoked: boolean;
  /** The refresh token this access token was minted from: it dies with it (§3 rotation, revokeToken). */
  refreshToken: string | null;
  /** §4: `client=referer` binds the token to a Referer header. */
  referer: string | null;
  /** §3 revokeToken: app tokens and generateToken tokens cannot be revoked; OAuth user tokens can. */
  source: 'oauth' | 'client_credentials' | 'generateToken' | 'server';
}

export interface RefreshTokenRecord {
  username: string;
  clientId: string;
  redirectUri: string;
  /** §3: exchange_refresh_token gives the new refresh token the *original* lifetime. */
  lifetimeSeconds: number;
  expiresAt: number;
  revoked: boolean;
}

export interface CodeRecord {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | 'plain' | null;
  username: string;
  expiresAt: number;
  used: boolean;
  refreshLifetimeSeconds: number;
  /** Filled on redemption so a replay can revoke what the code produced (RFC 9700 §4.2.4 spirit). */
  issuedRefreshToken: string | null;
}

export type Resolution =
  | { status: 'valid'; token: string; record: AccessTokenRecord }
  | { status: 'invalid'; reason: 'unknown' | 'expired' | 'revoked' };

/** §3 authorize: codes live ten minutes. */
export const CODE_LIFETIME_MS = 10 * 60 * 1000;

/**
 * Every token and code the sandbox has issued, in memory. Times come from an injectable clock so
 * tests can expire things without sleeping (style.md: fake timers instead of sleeps).
 */
export class TokenStore {
  private readonly access = new Map<string, AccessTokenRecord>();
  private readonly refresh = new Map<string, RefreshTokenRecord>();
  private readonly codes = new Map<string, CodeRecord>();

  constructor(private readonly now: () => number) {}

  issueAccess(
    fields: Omit<AccessTokenRecord, 'revoked' | 'expiresAt'>,
    lifetimeSeconds: number,
  ): {
    token: string;
    record: AccessTokenRecord;
  } {
    const token = this.unique(this.access);
    const record: AccessTokenRecord = {
      ...fields,
      revoked: false,
      expiresAt: this.now() + lifetimeSeconds * 1000,
    };
    this.access.set(token, record);
    return { token, record };
  }

  issueRefresh(fields: Omit<RefreshTokenRecord, 'revoked' | 'expiresAt'>): string {
    const token = this.unique(this.refresh);
    this.refresh.set(token, {
      ...fields,
      revoked: false,
      expiresAt: this.now() + fields.lifetimeSeconds * 1000,
    });
    return token;
  }

  resolveAccess(token: string): Resolution {
    const record = this.access.get(token);
    if (record === undefined) return { status: 'invalid', reason: 'unknown' };
    if (record.revoked) return { status: 'invalid', reason: 'revoked' };
    if (record.expiresAt <= this.now()) return { status: 'invalid', reason: 'expired' };
    return { status: 'valid', token, record };
  }

  /** Raw lookup: callers distinguish expired from unknown (§3 "refresh_token expired" vs "Invalid refresh_token"). */
  findRefresh(token: string): RefreshTokenRecord | undefined {
    return this.refresh.get(token);
  }

  isExpired(record: { expiresAt: number }): boolean {
    return record.expiresAt <= this.now();
  }

  /** §3 revokeToken: revoking a refresh token kills its access tokens. */
  revokeRefresh(token: string): boolean {
    const record = this.refresh.get(token);
    if (record === undefined) return false;
    record.revoked = true;
    for (const access of this.access.values()) if (access.refreshToken === token) access.revoked = true;
    return true;
  }

  revokeAccess(token: string): boolean {
    const record = this.access.get(token);
    if (record === undefined) return false;
    record.revoked = true;
    return true;
  }

  issueCode(fields: Omit<CodeRecord, 'used' | 'expiresAt' | 'issuedRefreshToken'>): string {
    const code = randomCode();
    this.codes.set(code, {
      ...fields,
      used: false,
      issuedRefreshToken: null,
      expiresAt: this.now() + CODE_LIFETIME_MS,
    });
    return code;
  }

  findCode(code: string): CodeRecord | undefined {
    return this.codes.get(code);
  }

  /** Admin: every current access token expires now (for 498 → refresh tests). */
  expireAllAccess(): number {
    const now = this.now();
    let count = 0;
    for (const record of this.access.values()) {
      if (!record.revoked && record.expiresAt > now) {
        record.expiresAt = now;
        count += 1;
      }
    }
    return count;
  }

  /** Admin: every refresh token is revoked, with the access tokens minted from them. */
  revokeAllRefresh(): number {
    let count = 0;
    for (const [token, record] of this.refresh) {
      if (!record.revoked) {
        this.revokeRefresh(token);
        count += 1;
      }
    }
    return count;
  }

  private unique(map: Map<string, unknown>): string {
    for (;;) {
      const token = randomToken();
      if (!map.has(token) && !this.access.has(token) && !this.refresh.has(token)) return token;
    }
  }
}
