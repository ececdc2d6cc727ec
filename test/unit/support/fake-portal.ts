import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type LoopbackServer, type RecordedRequest } from './loopback-server.js';

/**
 * A small fake ArcGIS portal on 127.0.0.1 (arcgis-protocol.md §3, §5): `oauth2/token` (the
 * authorization_code, refresh_token and exchange_refresh_token grants with PKCE S256 checked),
 * `oauth2/revokeToken`, `community/self`, `portals/self`, plus feature-service paths registered
 * per test. Tokens are random and tracked with absolute expiry in real time.
 */
export interface FakePortalOptions {
  /** Seconds; default 1800 (ArcGIS user tokens). */
  accessLifetimeSec?: number;
  /** Seconds; default 1209599 (two weeks, §3). */
  refreshLifetimeSec?: number;
  /** Hold every token answer this long, to make concurrent callers overlap. */
  tokenDelayMs?: number;
  username?: string;
}

interface Issued {
  username: string;
  expiresAt: number;
}

export type ServiceHandler = (req: RecordedRequest, res: ServerResponse, user: string | null) => void;

export class FakePortal {
  readonly accessTokens = new Map<string, Issued>();
  readonly refreshTokens = new Map<string, Issued & { access: Set<string> }>();
  /** Every token-endpoint request, by grant type, in order. */
  readonly grants: string[] = [];
  readonly revoked: string[] = [];
  /** Every access and refresh token this portal ever issued (for leak canaries). */
  readonly everIssued: string[] = [];
  readonly services = new Map<string, ServiceHandler>();
  private readonly codes = new Map<string, { challenge: string; redirectUri: string }>();
  options: Required<FakePortalOptions>;

  private constructor(
    readonly server: LoopbackServer,
    options: FakePortalOptions,
  ) {
    this.options = {
      accessLifetimeSec: 1800,
      refreshLifetimeSec: 1209599,
      tokenDelayMs: 0,
      username: 'alice',
      ...options,
    };
  }

  static async start(options: FakePortalOptions = {}): Promise<FakePortal> {
    const holder: { portal?: FakePortal } = {};
    const server = await startServer((req, res) => holder.portal?.handle(req, res));
    holder.portal = new FakePortal(server, options);
    return holder.portal;
  }

  get portalUrl(): URL {
    return new URL(`${this.server.origin}/portal`);
  }

  get restUrl(): URL {
    return new URL(`${this.server.origin}/portal/sharing/rest`);
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** Requests that carried a token, anywhere. */
  get tokenBearing(): RecordedRequest[] {
    return this.requests.filter((r) => r.headers['x-esri-authorization'] !== undefined);
  }

  /** What the user's browser would bring back after signing in for this PKCE challenge. */
  issueCode(challenge: string, redirectUri: string): string {
    const code = `code-${randomBytes(12).toString('hex')}`;
    this.codes.set(code, { challenge, redirectUri });
    return code;
  }

  /** A refresh token as a previous run would have left it. */
  mintRefreshToken(lifetimeSec = this.options.refreshLifetimeSec): string {
    const token = `rt-${randomBytes(16).toString('hex')}`;
    this.everIssued.push(token);
    this.refreshTokens.set(token, {
      username: this.options.username,
      expiresAt: Date.now() + lifetimeSec * 1000,
      access: new Set(),
    });
    return token;
  }

  /** The portal forgets an access token (as if it expired or was revoked there). */
  killAccessTokens(): void {
    this.accessTokens.clear();
  }

  killRefreshToken(token: string): void {
    this.refreshTokens.delete(token);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private userOf(req: RecordedRequest): string | null | 'invalid' {
    const header = req.headers['x-esri-authorization'];
    if (typeof header !== 'string') return null;
    const token = header.replace(/^Bearer /, '');
    const issued = this.accessTokens.get(token);
    if (!issued || issued.expiresAt <= Date.now()) return 'invalid';
    return issued.username;
  }

  private async handle(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const path = req.path.replace(/^\/portal\/sharing\/rest/, '');
    if (path === '/oauth2/token') {
      if (this.options.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, this.options.tokenDelayMs));
      return sendJson(res, this.token(req.form));
    }
    if (path === '/oauth2/revokeToken') {
      const t = req.form.get('auth_token') ?? '';
      this.revoked.push(t);
      const rt = this.refreshTokens.get(t);
      if (rt) for (const a of rt.access) this.accessTokens.delete(a);
      this.refreshTokens.delete(t);
      this.accessTokens.delete(t);
      return sendJson(res, { success: true });
    }
    const user = this.userOf(req);
    if (path === '/community/self') {
      if (user === 'invalid')
        return sendJson(res, { error: { code: 498, message: 'Invalid token.', details: [] } });
      if (user === null)
        return sendJson(res, { error: { code: 499, message: 'Token Required', details: [] } });
      return sendJson(res, { username: user, fullName: 'Alice Example', role: 'org_user', orgId: 'org1' });
    }
    if (path === '/portals/self') {
      return sendJson(res, {
        id: 'org1',
        name: 'Example Org',
        ...(typeof user === 'string' && user !== 'invalid' ? { user: { username: user } } : {}),
      });
    }
    const service = this.services.get(req.path);
    if (service) {
      if (user === 'invalid')
        return sendJson(res, { error: { code: 498, message: 'Invalid token.', details: [] } });
      return service(req, res, user);
    }
    sendJson(res, {
      error: { code: 400, messageCode: 'CONT_0001', message: 'Item does not exist or is inaccessible.' },
    });
  }

  private newAccess(username: string, refresh?: string): { access_token: string; expires_in: number } {
    const token = `at-${randomBytes(16).toString('hex')}`;
    this.everIssued.push(token);
    this.accessTokens.set(token, { username, expiresAt: Date.now() + this.options.accessLifetimeSec * 1000 });
    if (refresh) this.refreshTokens.get(refresh)?.access.add(token);
    return { access_token: token, expires_in: this.options.accessLifetimeSec };
  }

  private token(form: URLSearchParams): unknown {
    const grant = form.get('grant_type') ?? '';
    this.grants.push(grant);
    const invalid = (description: string, code = 400) => ({
      error: {
        code,
        error: 'invalid_request',
        error_description: description,
        message: description,
        details: [],
      },
    });
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!code || code.challenge !== challenge || code.redirectUri !== form.get('redirect_uri')) {
        return invalid('Invalid authorization code');
      }
      const refresh = this.mintRefreshToken();
      return {
        ...this.newAccess(this.options.username, refresh),
        username: this.options.username,
        ssl: true,
        refresh_token: refresh,
        refresh_token_expires_in: this.options.refreshLifetimeSec,
      };
    }
    const presented = form.get('refresh_token') ?? '';
    const rt = this.refreshTokens.get(presented);
    if (!rt) return invalid('Invalid refresh_token');
    if (rt.expiresAt <= Date.now()) return invalid('refresh_token expired', 498);
    if (grant === 'refresh_token') {
      return { ...this.newAccess(rt.username, presented), username: rt.username, ssl: true };
    }
    if (grant === 'exchange_refresh_token') {
      if (!form.get('redirect_uri')) return invalid('redirect_uri required');
      for (const a of rt.access) this.accessTokens.delete(a);
      this.refreshTokens.delete(presented);
      const next = this.mintRefreshToken();
      return {
        ...this.newAccess(rt.username, next),
        username: rt.username,
        ssl: true,
        refresh_token: next,
        refresh_token_expires_in: this.options.refreshLifetimeSec,
      };
    }
    return invalid(`unsupported grant_type ${grant}`);
  }
}

/** A feature-service answer for tests. */
export function answer(res: ServerResponse, body: unknown): void {
  sendJson(res, body);
}
