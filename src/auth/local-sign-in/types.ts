import type { Logger } from '../../log.js';

export type SignInOutcome =
  | { way: 'oauth'; username: string }
  | { way: 'token'; kind: 'user' | 'app'; username?: string; appTitle?: string }
  | { way: 'password'; username: string };

/**
 * Implemented by the caller (the auth core). Each may throw `ArcGisMcpError`; the page shows its
 * `message` and `nextStep` (redacted, HTML-escaped), never a stack.
 */
export interface SignInHandlers {
  /** Build the ArcGIS authorize URL for a sign-in whose redirect is `redirectUri` (this server's /callback). Returns the URL and the state it carries. */
  startOAuth(redirectUri: string): { authorizeUrl: string; state: string };
  /** The loopback redirect arrived: redeem. `params` are the callback's query parameters. */
  completeOAuth(params: {
    code: string | null;
    state: string | null;
    error: string | null;
    errorDescription: string | null;
  }): Promise<SignInOutcome>;
  /** A pasted token (Section B generateToken token, or Section C app "temporary token"): classify and adopt. */
  adoptToken(token: string): Promise<SignInOutcome>;
  /** Username + password for an org without MFA (generateToken, referer-bound). */
  signInWithPassword(username: string, password: string): Promise<SignInOutcome>;
}

export interface LocalAuthServerOptions {
  handlers: SignInHandlers;
  /** e.g. "gis.example.org/portal", shown on the page. */
  portalLabel: string;
  /** 0/undefined: chosen at run time (RFC 8252 §7.3); or the configured one. */
  port?: number;
  /** Default 10 minutes; the server closes itself after it. */
  timeoutMs?: number;
  /** false: only /callback (pure loopback OAuth). Default true. */
  enablePage?: boolean;
  log?: Logger;
}

export interface LocalAuthServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** `http://127.0.0.1:PORT/callback`: the redirect_uri to register and send. */
  readonly callbackUrl: string;
  /** `http://127.0.0.1:PORT/signin/<id>` (id: 256 random bits, base64url); null when the page is disabled. */
  readonly signInPageUrl: string | null;
  /**
   * Resolves with the first successful outcome (any way); rejects with `OAUTH_TIMEOUT` after
   * `timeoutMs`, or `CANCELLED` when `signal` aborts (that caller only) or the server is closed
   * first. May be called before or after completion, by several callers.
   */
  waitForCompletion(signal?: AbortSignal): Promise<SignInOutcome>;
  readonly completed: boolean;
  close(): Promise<void>;
}
