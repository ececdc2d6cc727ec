import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArcGisMcpError, isArcGisMcpError } from '../../errors.js';
import { log as defaultLog, type Logger } from '../../log.js';
import { redactText, registerSecret } from '../../redact.js';
import { Completion } from './completion.js';
import { CSRF_FIELD, createCsrfGuard, type CsrfGuard } from './csrf.js';
import { FormBodyError, readFormBody, singleField } from './form-body.js';
import { hasExpectedHost, isCrossOriginRequest, redirect, sendHtml, sendText } from './http-guards.js';
import {
  MAX_PASSWORD_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_USERNAME_LENGTH,
  renderCallbackErrorPage,
  renderFinishedPage,
  renderOutcomePage,
  renderSignInPage,
  type Problem,
  type SignInPageState,
} from './pages.js';
import { safeEqual } from './safe-compare.js';
import type { LocalAuthServer, LocalAuthServerOptions, SignInHandlers, SignInOutcome } from './types.js';

export type { LocalAuthServer, LocalAuthServerOptions, SignInHandlers, SignInOutcome } from './types.js';

/**
 * The local HTTP server on 127.0.0.1 that (a) catches the OAuth loopback redirect (RFC 8252 §7.3)
 * and (b) serves the one-time local sign-in page (product.md Sections A–D), where a user signs in
 * with ArcGIS, pastes a token or enters a username and password: the MCP spec 2025-11-25
 * elicitation "URL mode" pattern, so that no secret ever passes through the chat
 * (AUTH-NO-SECRET-IN-CHAT).
 *
 * Lifetime: it closes itself after the first successful sign-in (any way), after `timeoutMs`, or
 * on `close()`. Everything else on it is refused with a bare status.
 */

/** AUTH-STATE and RFC 9700 §4.1.1: a pending sign-in lives at most 10 minutes; so does its listener. */
export const DEFAULT_SIGN_IN_TIMEOUT_MS = 10 * 60 * 1000;
/** After a success or a timeout, in-flight responses get this long before their sockets are cut. */
const CLOSE_GRACE_MS = 2000;
/** Submissions that reach a handler (token, password, starting OAuth): bounds guessing through the page. */
export const MAX_SIGN_IN_ATTEMPTS = 20;
/** RFC 8252 §8.3: the loopback IP literal, never `localhost` (resolver-dependent) or 0.0.0.0. */
const LOOPBACK_HOST = '127.0.0.1';
const CALLBACK_PATH = '/callback';
const PAGE_PREFIX = '/signin/';

type PageAction = 'page' | 'oauth' | 'token' | 'password';

export async function startLocalAuthServer(options: LocalAuthServerOptions): Promise<LocalAuthServer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIGN_IN_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      'The sign-in timeout must be a positive number of milliseconds.',
    );
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ArcGisMcpError('CONFIG_INVALID', `The loopback port ${String(port)} is not a valid TCP port.`, {
      nextStep: 'Use a port between 1024 and 65535 in the redirect URI, or 0 to let the system choose.',
    });
  }
  const log = (options.log ?? defaultLog).child({ component: 'local-sign-in' });
  const server = createServer();
  // Slow or stuck clients must not hold the listener open (it has to close on time).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const bound = await listen(server, port);
  const instance = new LoopbackSignInServer(server, bound, {
    handlers: options.handlers,
    portalLabel: options.portalLabel,
    timeoutMs,
    enablePage: options.enablePage ?? true,
    log,
  });
  log.info('local sign-in server listening', {
    origin: instance.origin,
    page: instance.signInPageUrl !== null,
  });
  return instance;
}

interface Settings {
  handlers: SignInHandlers;
  portalLabel: string;
  timeoutMs: number;
  enablePage: boolean;
  log: Logger;
}

class LoopbackSignInServer implements LocalAuthServer {
  readonly origin: string;
  readonly callbackUrl: string;
  readonly signInPageUrl: string | null;

  private readonly hostHeader: string;
  /** 256 random bits, base64url: the capability in the page link. Never logged. */
  private readonly pageId: string | null;
  private readonly pagePath: string | null;
  private readonly csrf: CsrfGuard | null;
  private readonly completion = new Completion<SignInOutcome>();
  private readonly deadline: number;
  private readonly timer: NodeJS.Timeout;
  private succeeded = false;
  private attempts = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    port: number,
    private readonly settings: Settings,
  ) {
    this.hostHeader = `${LOOPBACK_HOST}:${port}`;
    this.origin = `http://${this.hostHeader}`;
    this.callbackUrl = `${this.origin}${CALLBACK_PATH}`;
    if (settings.enablePage) {
      this.pageId = randomBytes(32).toString('base64url');
      this.pagePath = `${PAGE_PREFIX}${this.pageId}`;
      this.signInPageUrl = `${this.origin}${this.pagePath}`;
      this.csrf = createCsrfGuard(this.pageId);
    } else {
      this.pageId = null;
      this.pagePath = null;
      this.signInPageUrl = null;
      this.csrf = null;
    }
    this.deadline = Date.now() + settings.timeoutMs;
    this.timer = setTimeout(() => this.expire(), settings.timeoutMs);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch((e: unknown) => {
        this.settings.log.error('local sign-in request failed', { error: e });
        if (!res.headersSent) sendText(res, 500, 'Internal error.');
        else res.destroy();
      });
    });
    server.on('error', (e: unknown) => this.settings.log.warn('local sign-in server error', { error: e }));
  }

  get completed(): boolean {
    return this.succeeded;
  }

  waitForCompletion(signal?: AbortSignal): Promise<SignInOutcome> {
    return this.completion.wait(signal);
  }

  close(): Promise<void> {
    this.completion.settle({
      ok: false,
      error: new ArcGisMcpError('CANCELLED', 'The local sign-in was closed before anyone signed in.', {
        nextStep: 'Start a new sign-in when the user is ready.',
      }),
    });
    return this.shutdown();
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hasExpectedHost(req, this.hostHeader)) {
      sendText(res, 421, 'Misdirected request.');
      return;
    }
    // The raw request target, not `new URL(...)`: `//callback` or an absolute-form target must
    // not be normalised into a match. Only the exact path is served (AUTH-LOOPBACK).
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? '' : target.slice(q + 1);

    if (path === CALLBACK_PATH) {
      await this.callback(req, res, query);
      return;
    }
    const action = this.matchPage(path);
    if (action === null) {
      sendText(res, 404, 'Not found.');
      return;
    }
    if (this.finished()) {
      sendHtml(res, 410, renderFinishedPage(), 'callback');
      return;
    }
    switch (action) {
      case 'page':
        if (!allowMethod(req, res, 'GET')) return;
        sendHtml(res, 200, this.renderPage(), 'sign-in');
        return;
      case 'oauth':
        this.startOAuth(req, res);
        return;
      case 'token':
      case 'password':
        await this.submit(req, res, action);
        return;
    }
  }

  /** `/signin/<id>` or `/signin/<id>/<action>`; any other shape, or another id, is a plain 404. */
  private matchPage(path: string): PageAction | null {
    if (this.pageId === null || !path.startsWith(PAGE_PREFIX)) return null;
    const [id, action, ...rest] = path.slice(PAGE_PREFIX.length).split('/');
    if (id === undefined || rest.length > 0 || !safeEqual(id, this.pageId)) return null;
    if (action === undefined) return 'page';
    return action === 'oauth' || action === 'token' || action === 'password' ? action : null;
  }

  private finished(): boolean {
    return this.succeeded || this.completion.settled;
  }

  // -------------------------------------------------------------------------------------------
  // Loopback redirect (Section A)

  /**
   * RFC 8252 §7.3: ArcGIS redirects the browser here with `code` and `state` (or `error`). The
   * handler checks the state against the pending sign-in before any token request (AUTH-STATE).
   * Neither the code nor the state is ever written back into the page.
   */
  private async callback(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    if (!allowMethod(req, res, 'GET')) return;
    if (this.finished()) {
      sendHtml(res, 410, renderFinishedPage(), 'callback');
      return;
    }
    const params = new URLSearchParams(query);
    const names = ['code', 'state', 'error', 'error_description'] as const;
    // RFC 6749 §3.1: parameters MUST NOT be included more than once; an ambiguous answer is refused.
    if (names.some((n) => params.getAll(n).length > 1)) {
      this.callbackFailed(res, {
        message: 'The sign-in answer from ArcGIS repeated a parameter, so it was not used.',
        nextStep: 'Start the sign-in again.',
      });
      return;
    }
    const code = params.get('code');
    registerSecret(code);
    try {
      const outcome = await this.settings.handlers.completeOAuth({
        code,
        state: params.get('state'),
        error: params.get('error'),
        errorDescription: params.get('error_description'),
      });
      this.succeed(res, outcome);
    } catch (e) {
      this.callbackFailed(res, this.problemFrom(e, 'oauth'));
      // Pure loopback: once a callback with a valid state has failed (denied, code refused), its
      // pending sign-in is used up and nothing else can finish it, so the waiting tool hears of it
      // now instead of timing out. An unknown state (OAUTH_STATE_MISMATCH) is ignored: any local
      // page can make the browser hit /callback, and it must not be able to cancel a real sign-in.
      if (this.pageId === null && isArcGisMcpError(e) && e.code !== 'OAUTH_STATE_MISMATCH') {
        this.completion.settle({ ok: false, error: e });
        const done = (): void => void this.shutdown();
        if (res.writableFinished || res.destroyed) done();
        else res.once('close', done);
      }
    }
  }

  private callbackFailed(res: ServerResponse, problem: Problem): void {
    sendHtml(
      res,
      400,
      renderCallbackErrorPage(problem, this.settings.portalLabel, this.pagePath),
      'callback',
    );
  }

  // -------------------------------------------------------------------------------------------
  // The sign-in page (Sections A–D)

  private renderPage(state: SignInPageState = {}): string {
    return renderSignInPage(
      {
        portalLabel: this.settings.portalLabel,
        basePath: this.pagePath ?? '',
        csrfToken: this.csrf?.token ?? '',
        minutesLeft: (this.deadline - Date.now()) / 60_000,
      },
      state,
    );
  }

  /**
   * Way 1: a link (GET), not a form. A form POST answered with a 302 to ArcGIS would be blocked by
   * the page's own `form-action 'self'` (CSP3 checks redirects of form submissions). Starting a
   * sign-in changes nothing a forger could use: the state binds the answer to this sign-in
   * (AUTH-STATE), and the request must not come from another site.
   */
  private startOAuth(req: IncomingMessage, res: ServerResponse): void {
    if (!allowMethod(req, res, 'GET')) return;
    if (isCrossOriginRequest(req, this.origin)) {
      sendText(res, 403, 'Forbidden.');
      return;
    }
    if (!this.takeAttempt(res)) return;
    let location: URL;
    try {
      const { authorizeUrl } = this.settings.handlers.startOAuth(this.callbackUrl);
      location = new URL(authorizeUrl);
      if (location.protocol !== 'https:' && location.protocol !== 'http:') {
        throw new ArcGisMcpError('CONFIG_INVALID', 'The ArcGIS sign-in address is not a web address.');
      }
    } catch (e) {
      sendHtml(res, 400, this.renderPage({ problem: this.problemFrom(e, 'oauth'), way: 'oauth' }), 'sign-in');
      return;
    }
    redirect(res, location.href);
  }

  /** Ways 2 and 3: a same-origin form POST carrying the page's CSRF token. */
  private async submit(req: IncomingMessage, res: ServerResponse, way: 'token' | 'password'): Promise<void> {
    if (!allowMethod(req, res, 'POST')) return;
    // OWASP CSRF cheat sheet: check the browser's own origin signals before reading the body.
    if (isCrossOriginRequest(req, this.origin)) {
      sendText(res, 403, 'Forbidden.');
      return;
    }
    let form: URLSearchParams;
    let fields: { csrf: string | null; a: string | null; b: string | null };
    try {
      form = await readFormBody(req);
      fields =
        way === 'token'
          ? { csrf: singleField(form, CSRF_FIELD), a: singleField(form, 'token'), b: null }
          : {
              csrf: singleField(form, CSRF_FIELD),
              a: singleField(form, 'username'),
              b: singleField(form, 'password'),
            };
    } catch (e) {
      this.refuseBody(req, res, e);
      return;
    }
    if (!this.csrf?.verify(fields.csrf)) {
      sendText(res, 403, 'Forbidden.');
      return;
    }
    // From here on the values are live secrets: every later log line or error text redacts them.
    if (way === 'token') registerSecret(fields.a);
    else registerSecret(fields.b);

    if (!this.takeAttempt(res)) return;
    if (way === 'token') await this.adoptToken(res, (fields.a ?? '').trim());
    else await this.signInWithPassword(res, (fields.a ?? '').trim(), fields.b ?? '');
  }

  private async adoptToken(res: ServerResponse, token: string): Promise<void> {
    if (token === '' || token.length > MAX_TOKEN_LENGTH || /\s/.test(token)) {
      const problem =
        token === ''
          ? { message: 'No token was entered.', nextStep: 'Paste the token, then choose "Use this token".' }
          : {
              message: 'That does not look like an ArcGIS token (too long, or it contains spaces).',
              nextStep: 'Copy the token again, only the token itself, and paste it.',
            };
      this.formFailed(res, 'token', problem);
      return;
    }
    try {
      this.succeed(res, await this.settings.handlers.adoptToken(token));
    } catch (e) {
      this.formFailed(res, 'token', this.problemFrom(e, 'token'));
    }
  }

  private async signInWithPassword(res: ServerResponse, username: string, password: string): Promise<void> {
    if (username === '' || password === '') {
      this.formFailed(
        res,
        'password',
        { message: 'Enter both your ArcGIS username and your password.' },
        username,
      );
      return;
    }
    if (username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      this.formFailed(res, 'password', { message: 'The username or password is too long.' });
      return;
    }
    try {
      this.succeed(res, await this.settings.handlers.signInWithPassword(username, password));
    } catch (e) {
      this.formFailed(res, 'password', this.problemFrom(e, 'password'), username);
    }
  }

  /** The page again, with the problem next to the form it belongs to; secrets are never re-filled. */
  private formFailed(
    res: ServerResponse,
    way: 'token' | 'password',
    problem: Problem,
    username?: string,
  ): void {
    const state: SignInPageState = { problem, way, ...(username === undefined ? {} : { username }) };
    sendHtml(res, 400, this.renderPage(state), 'sign-in');
  }

  private refuseBody(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    const problem = e instanceof FormBodyError ? e.problem : 'malformed';
    if (problem === 'aborted') {
      res.destroy();
      return;
    }
    const [status, text] =
      problem === 'too-large'
        ? [413, 'Request too large.']
        : problem === 'unsupported-type'
          ? [415, 'Unsupported form encoding.']
          : [400, 'Bad request.'];
    sendText(res, status, text);
    // Discard whatever the client is still sending (bounded by `requestTimeout`), so that closing
    // the connection after the answer does not reset it before the client has read the status.
    req.resume();
  }

  private takeAttempt(res: ServerResponse): boolean {
    this.attempts += 1;
    if (this.attempts <= MAX_SIGN_IN_ATTEMPTS) return true;
    sendText(res, 429, 'Too many sign-in attempts on this page. Ask Claude to start a new sign-in.');
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Outcomes

  /**
   * First success wins: later requests get 410 while the server closes. The browser gets its page
   * first; `shutdown` stops accepting at once but lets in-flight responses finish.
   */
  private succeed(res: ServerResponse, outcome: SignInOutcome): void {
    this.succeeded = true;
    sendHtml(res, 200, renderOutcomePage(outcome, this.settings.portalLabel), 'callback');
    if (this.completion.settle({ ok: true, value: outcome })) {
      this.settings.log.info('local sign-in finished', { way: outcome.way });
    }
    const done = (): void => void this.shutdown();
    if (res.writableFinished || res.destroyed) done();
    else res.once('close', done);
  }

  /** The error text shown on a page: an ArcGisMcpError's message and next step, redacted; never a stack. */
  private problemFrom(e: unknown, way: 'oauth' | 'token' | 'password'): Problem {
    if (isArcGisMcpError(e)) {
      this.settings.log.info('local sign-in attempt failed', { way, code: e.code });
      return { message: redactText(e.message), ...(e.nextStep ? { nextStep: redactText(e.nextStep) } : {}) };
    }
    this.settings.log.warn('local sign-in attempt failed unexpectedly', { way, error: e });
    return {
      message: 'Something unexpected went wrong while signing in.',
      nextStep: 'Try again, or ask Claude to start a new sign-in.',
    };
  }

  private expire(): void {
    const minutes = Math.round(this.settings.timeoutMs / 60_000);
    const settled = this.completion.settle({
      ok: false,
      error: new ArcGisMcpError(
        'OAUTH_TIMEOUT',
        minutes >= 1
          ? `Nobody finished signing in within ${minutes} minute${minutes === 1 ? '' : 's'}; the sign-in page and callback are closed.`
          : 'Nobody finished signing in in time; the sign-in page and callback are closed.',
        { nextStep: 'Start a new sign-in and finish it in the browser before it expires.' },
      ),
    });
    if (settled) this.settings.log.info('local sign-in timed out');
    void this.shutdown();
  }

  private shutdown(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      clearTimeout(this.timer);
      const grace = setTimeout(() => this.server.closeAllConnections(), CLOSE_GRACE_MS);
      grace.unref();
      this.server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }
}

function allowMethod(req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST'): boolean {
  if (req.method === method) return true;
  sendText(res, 405, 'Method not allowed.', { Allow: method });
  return false;
}

async function listen(server: Server, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        server.off('listening', onListening);
        reject(e);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      // AUTH-LOOPBACK, RFC 8252 §8.3: the IPv4 loopback literal only, never 0.0.0.0 or ::.
      server.listen({ host: LOOPBACK_HOST, port, exclusive: true });
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      code === 'EADDRINUSE'
        ? `Port ${port} on ${LOOPBACK_HOST} is already in use, so the sign-in callback cannot listen there.`
        : `The sign-in callback cannot listen on ${LOOPBACK_HOST}:${port} (${code ?? 'unknown error'}).`,
      {
        nextStep:
          'Use another port in the loopback redirect URI (one registered for the app), or port 0 to let the system choose.',
        cause: e,
      },
    );
  }
  return (server.address() as AddressInfo).port;
}
