import type { ArcGisHttpClient } from '../arcgis/http-client.js';
import { buildAuthorizeUrl, OOB_REDIRECT_URI } from '../arcgis/oauth.js';
import { ArcGisMcpError } from '../errors.js';
import type { Logger } from '../log.js';
import { adoptHandedToken, signInWithPassword } from './credential-intake.js';
import { startLocalAuthServer } from './local-sign-in/local-auth-server.js';
import type { LocalAuthServer, SignInHandlers, SignInOutcome } from './local-sign-in/types.js';
import type { PendingSignIns } from './pending-sign-ins.js';
import type { ProfileContext } from './profile-registry.js';

/**
 * Sign-ins that finish on this machine instead of through the chat:
 * - `loopback`: the ArcGIS redirect comes back to a 127.0.0.1 listener (AUTH-LOOPBACK, RFC 8252
 *   §7.3), so the user pastes nothing;
 * - `page`: the one-time local sign-in page, for a generated token (Section B), an app's temporary
 *   token (Section C), or a username and password (Section D), and the same loopback OAuth.
 * One local server per profile at a time; a new sign-in closes the previous one.
 */
export type LocalMode = 'loopback' | 'page';

export class LocalSignIns {
  private readonly servers = new Map<string, LocalAuthServer>();

  constructor(
    private readonly deps: {
      http: ArcGisHttpClient;
      pending: PendingSignIns;
      log: Logger;
      timeoutMs?: number;
    },
  ) {}

  /**
   * The newest local sign-in of the profile, finished or not, until the next one starts: the user
   * may well finish before the model calls arcgis_exchange_code, and that call must still get the
   * outcome (waitForCompletion answers late callers too).
   */
  latest(profile: string): LocalAuthServer | undefined {
    return this.servers.get(profile);
  }

  async start(
    p: ProfileContext,
    mode: LocalMode,
  ): Promise<{ server: LocalAuthServer; authorizeUrl: string | null }> {
    const clientId = p.config.clientId;
    await this.servers.get(p.config.name)?.close();
    this.servers.delete(p.config.name);
    const handlers = this.handlers(p);
    const server = await startLocalAuthServer({
      handlers,
      portalLabel: `${p.config.portalUrl.host}${p.config.portalUrl.pathname.replace(/\/+$/, '')}`,
      ...(configuredPort(p.config.redirectUri) !== undefined
        ? { port: configuredPort(p.config.redirectUri)! }
        : {}),
      enablePage: mode === 'page',
      ...(this.deps.timeoutMs !== undefined ? { timeoutMs: this.deps.timeoutMs } : {}),
      log: this.deps.log.child({ profile: p.config.name, localSignIn: mode }),
    });
    this.servers.set(p.config.name, server);
    let authorizeUrl: string | null = null;
    if (mode === 'loopback') {
      if (!clientId) throw noClientId(p);
      authorizeUrl = handlers.startOAuth(server.callbackUrl).authorizeUrl;
    }
    return { server, authorizeUrl };
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
    this.servers.clear();
  }

  private handlers(p: ProfileContext): SignInHandlers {
    const { http, pending } = this.deps;
    return {
      startOAuth: (redirectUri) => {
        const clientId = p.config.clientId;
        if (!clientId) throw noClientId(p);
        const started = pending.start({
          profile: p.config.name,
          portalUrl: p.config.portalUrl.href,
          clientId,
          redirectUri,
        });
        const url = buildAuthorizeUrl({
          restUrl: p.config.restUrl,
          clientId,
          redirectUri,
          state: started.state,
          codeChallenge: started.codeChallenge,
          expirationMinutes: p.config.expirationMinutes,
        });
        return { authorizeUrl: url.href, state: started.state };
      },
      completeOAuth: async (params): Promise<SignInOutcome> => {
        if (params.error) {
          // The state is still checked (and consumed) so a forged denial cannot cancel a real sign-in.
          pending.takeByState(p.config.name, params.state);
          throw new ArcGisMcpError(
            'OAUTH_ACCESS_DENIED',
            `ArcGIS did not complete the sign-in (${params.error}${params.errorDescription ? `: ${params.errorDescription}` : ''}).`,
            { nextStep: 'Start again from Claude (arcgis_auth_url) if you want to sign in.' },
          );
        }
        // AUTH-STATE: checked before any token request.
        const validated = pending.takeByState(p.config.name, params.state);
        if (!params.code) {
          throw new ArcGisMcpError('OAUTH_CODE_REJECTED', 'The sign-in answer carried no code.', {
            nextStep: 'Start again from Claude (arcgis_auth_url).',
          });
        }
        const who = await p.session.completeOAuth(validated, params.code);
        return { way: 'oauth', username: who.username };
      },
      adoptToken: async (token) => {
        const cls = await adoptHandedToken(p, http, token, 'pasted-token');
        return cls.kind === 'user'
          ? { way: 'token', kind: 'user', username: cls.username }
          : { way: 'token', kind: 'app', ...(cls.appTitle ? { appTitle: cls.appTitle } : {}) };
      },
      signInWithPassword: async (username, password) => {
        const who = await signInWithPassword(p, http, username, password, { keepRenewing: false });
        return { way: 'password', username: who.username };
      },
    };
  }
}

/** `http://127.0.0.1:8765/callback` → 8765; no port or out-of-band → chosen at run time. */
function configuredPort(redirectUri: string): number | undefined {
  if (redirectUri === OOB_REDIRECT_URI) return undefined;
  const port = new URL(redirectUri).port;
  return port ? Number(port) : undefined;
}

export function isLoopbackRedirect(redirectUri: string): boolean {
  return redirectUri !== OOB_REDIRECT_URI;
}

function noClientId(p: ProfileContext): ArcGisMcpError {
  return new ArcGisMcpError(
    'CONFIG_INVALID',
    `Profile "${p.config.name}" has no ArcGIS client id configured.`,
    {
      nextStep:
        'Register an OAuth app in the ArcGIS org (see the README) and set ARCGIS_CLIENT_ID; or use a generated token or a username and password on the sign-in page.',
    },
  );
}
