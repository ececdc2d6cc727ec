import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { ArcGisMcpError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { parseArcGisResponse } from './envelope.js';
import { backoffDelayMs, parseRetryAfter, type RetryPolicy, DEFAULT_RETRY_POLICY } from './retry.js';

/**
 * The one place where the server talks HTTP to ArcGIS (style.md §1): header token transport,
 * no automatic redirects, a timeout on every request, typed errors from ArcGIS envelopes,
 * bounded retries for transient faults.
 */

/**
 * A token allowed to go to exactly one origin. Only `src/auth/` creates these, after the host policy
 * and the credential-kind rules said yes (NET-ALLOWLIST, NET-TWO-LEGGED); the client re-checks the
 * origin on every hop so a redirect can never carry it elsewhere (NET-REDIRECTS).
 */
export interface OriginBoundToken {
  readonly token: string;
  readonly origin: string;
  /** `client=referer` tokens are bound to a referer that must be sent again (arcgis-protocol.md §4). */
  readonly referer?: string;
}

export type ParamValue = string | number | boolean | undefined | null;
export type Params = Record<string, ParamValue>;

export interface ArcGisRequest {
  url: URL;
  method?: 'GET' | 'POST';
  params?: Params;
  token?: OriginBoundToken;
  /** Safe to repeat: GETs and read-only POSTs (queries). Token grants and revocations are not (REL-BACKOFF). */
  idempotent?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpClientOptions {
  timeoutMs?: number;
  maxResponseBytes?: number;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  userAgent?: string;
}

/** Parameter names that must never appear in a URL (NET-NO-TOKEN-IN-URL, AUTH-TOKEN-ENDPOINT). */
const SECRET_PARAMS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'auth_token',
  'code',
  'code_verifier',
  'client_secret',
  'password',
]);

/** arcgis-protocol.md §8: URLs over ~2000 characters must be sent as POST. */
const MAX_GET_URL_LENGTH = 1800;
const MAX_REDIRECTS = 3;

let sharedAgent: Agent | undefined;
/** One keep-alive pool for the whole process; connect timeout bounds the TCP/TLS handshake. */
export function sharedDispatcher(): Agent {
  sharedAgent ??= createDispatcher();
  return sharedAgent;
}

/**
 * A pool that trusts the system CAs plus, when given, an extra PEM bundle: Enterprise portals
 * often use an internal CA (arcgis-protocol.md §9: "allow a CA bundle, never disable
 * verification"). Verification stays on; there is no option to turn it off.
 */
export function createDispatcher(options: { extraCaPem?: string } = {}): Agent {
  return new Agent({
    connect: {
      timeout: 10_000,
      ...(options.extraCaPem ? { ca: [...rootCertificates, options.extraCaPem] } : {}),
    },
    keepAliveTimeout: 10_000,
    connections: 16,
  });
}

export class ArcGisHttpClient {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  private readonly retry: RetryPolicy;
  private readonly dispatcher: Dispatcher;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly userAgent: string;

  constructor(options: HttpClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.dispatcher = options.dispatcher ?? sharedDispatcher();
    this.sleep = options.sleep ?? abortableSleep;
    this.userAgent = options.userAgent ?? 'arcgis-mcp';
  }

  /** Sends the request and returns the parsed JSON body; ArcGIS error envelopes become ArcGisMcpError. */
  async requestJson(req: ArcGisRequest): Promise<unknown> {
    const idempotent = req.idempotent ?? (req.method ?? 'GET') === 'GET';
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(req);
      } catch (e) {
        if (!(e instanceof ArcGisMcpError)) throw e;
        const transient =
          e.code === 'ARCGIS_RATE_LIMITED' ||
          (e.code === 'ARCGIS_SERVER_ERROR' && [502, 503, 504].includes(e.arcgisCode ?? 0)) ||
          (e.code === 'ARCGIS_TIMEOUT' && e.arcgisCode === 504) ||
          (e.code === 'ARCGIS_UNREACHABLE' && e.messageCode === 'CONNECTION_RESET');
        if (!idempotent || !transient || attempt >= this.retry.maxRetries) throw e;
        const delay = backoffDelayMs(attempt, this.retry, e.retryAfterSeconds);
        if (delay === null) throw e; // Retry-After longer than we are willing to wait: report it.
        await this.sleep(delay, req.signal);
      }
    }
  }

  private async once(req: ArcGisRequest): Promise<unknown> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.params ?? {})) {
      if (v === undefined || v === null) continue;
      params.set(k, typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v));
    }
    if (!params.has('f')) params.set('f', 'json');

    let method = req.method ?? 'GET';
    let url = new URL(req.url);
    for (const k of url.searchParams.keys()) {
      if (SECRET_PARAMS.has(k.toLowerCase())) {
        // A URL someone pasted may carry `token=`: never send it on (NET-NO-TOKEN-IN-URL).
        throw new ArcGisMcpError(
          'ARCGIS_INVALID_URL',
          `The URL carries a "${k}" parameter; it was not sent.`,
          {
            nextStep: 'Remove the token from the URL; the server signs requests itself.',
          },
        );
      }
    }
    if (method === 'GET') {
      for (const k of params.keys()) {
        if (SECRET_PARAMS.has(k.toLowerCase())) {
          // A programming error, not a user error: fail loudly rather than leak (NET-NO-TOKEN-IN-URL).
          throw new Error(`refusing to put parameter "${k}" in a URL; send it in a POST body`);
        }
      }
      const candidate = new URL(url);
      for (const [k, v] of params) candidate.searchParams.set(k, v);
      if (candidate.href.length > MAX_GET_URL_LENGTH) method = 'POST';
      else url = candidate;
    }
    const body = method === 'POST' ? params.toString() : undefined;

    const signals = [AbortSignal.timeout(req.timeoutMs ?? this.timeoutMs)];
    if (req.signal) signals.push(req.signal);
    const signal = AbortSignal.any(signals);

    let token = req.token;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {
        accept: 'application/json',
        'user-agent': this.userAgent,
      };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      // The token goes only to the origin it was granted for, and only in X-Esri-Authorization:
      // web-tier auth (IWA/PKI) owns `Authorization` (arcgis-protocol.md §9, NET-NO-TOKEN-IN-URL).
      if (token && token.origin === url.origin) {
        headers['x-esri-authorization'] = `Bearer ${token.token}`;
        if (token.referer) headers.referer = token.referer;
      }

      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          dispatcher: this.dispatcher,
          signal,
          headersTimeout: req.timeoutMs ?? this.timeoutMs,
          bodyTimeout: req.timeoutMs ?? this.timeoutMs,
        });
      } catch (e) {
        throw networkError(e, url, req.signal);
      }

      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) {
          throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', `Too many redirects from ${redactUrl(url)}.`, {
            httpStatus: res.statusCode,
          });
        }
        const location = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
        const next = new URL(location ?? '', url);
        // NET-REDIRECTS: credentials never cross origins. A cross-origin hop goes on anonymously;
        // if the target needs a token the caller sees 499/403 and the decision tree takes over.
        if (next.origin !== url.origin) token = undefined;
        if (next.protocol !== 'https:' && next.protocol !== 'http:') {
          throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', 'The server redirected to a non-HTTP URL.');
        }
        if (
          method === 'POST' &&
          ((res.statusCode !== 307 && res.statusCode !== 308) || next.origin !== url.origin)
        ) {
          // 301/302/303 turn a POST into a GET, which would move the form body (possibly secrets)
          // into a URL; a 307/308 to another origin would carry the body (a refresh token, a
          // password) there. Neither is followed (NET-REDIRECTS).
          throw new ArcGisMcpError(
            'ARCGIS_BAD_RESPONSE',
            `The server answered a POST with a redirect (HTTP ${res.statusCode}) to ${redactUrl(next)}; not followed.`,
            { httpStatus: res.statusCode, nextStep: 'Use the final URL of the service directly.' },
          );
        }
        url = next;
        continue;
      }

      let text: string;
      try {
        text = await readCapped(res, this.maxResponseBytes, url);
      } catch (e) {
        if (e instanceof ArcGisMcpError) throw e;
        throw networkError(e, url, req.signal);
      }
      const retryAfterSeconds = parseRetryAfter(res.headers['retry-after']);
      return parseArcGisResponse(res.statusCode, text, {
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
        context: { url: redactUrl(url), method },
      });
    }
  }
}

async function readCapped(res: Dispatcher.ResponseData, max: number, url: URL): Promise<string> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.body.destroy();
    throw tooLarge(url, max);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      res.body.destroy();
      throw tooLarge(url, max);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(url: URL, max: number): ArcGisMcpError {
  return new ArcGisMcpError(
    'ARCGIS_BAD_RESPONSE',
    `The answer from ${redactUrl(url)} is larger than ${Math.round(max / 1024 / 1024)} MB.`,
    { nextStep: 'Ask for fewer rows or fields (limit, outFields), or count first with returnCountOnly.' },
  );
}

function networkError(e: unknown, url: URL, callerSignal: AbortSignal | undefined): ArcGisMcpError {
  const code = (e as { code?: string }).code ?? '';
  const name = (e as { name?: string }).name ?? '';
  const where = `${url.protocol}//${url.host}`;
  if (callerSignal?.aborted) {
    return new ArcGisMcpError('CANCELLED', `The request to ${where} was cancelled.`, { cause: e });
  }
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new ArcGisMcpError('ARCGIS_TIMEOUT', `${where} did not answer in time.`, {
      cause: e,
      nextStep:
        'Try again in a moment; if it keeps happening, ask for fewer rows (limit) or check the server.',
    });
  }
  if (TLS_CERT_ERRORS.has(code)) {
    return new ArcGisMcpError(
      'ARCGIS_UNREACHABLE',
      `${where} presented a certificate this computer does not trust (${code}).`,
      {
        cause: e,
        nextStep:
          'If this is an ArcGIS Enterprise server with an internal certificate authority, ask the user to set ARCGIS_CA_FILE (or NODE_EXTRA_CA_CERTS) to the CA bundle (PEM) in the server configuration. Certificate checks are never turned off.',
      },
    );
  }
  const reset = code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
  return new ArcGisMcpError(
    'ARCGIS_UNREACHABLE',
    reset
      ? `The connection to ${where} was dropped.`
      : `Cannot reach ${where} (${code || name || 'network error'}).`,
    {
      cause: e,
      ...(reset ? { messageCode: 'CONNECTION_RESET' } : {}),
      nextStep: reset
        ? 'Try again.'
        : 'Check the URL and the network connection (VPN for an Enterprise portal), then try again.',
    },
  );
}

const TLS_CERT_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ArcGisMcpError('CANCELLED', 'Cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new ArcGisMcpError('CANCELLED', 'Cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
