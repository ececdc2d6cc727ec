import { inspect } from 'node:util';

/**
 * One error family for the whole server, with stable codes grouped by what the caller can do next
 * (style.md §2). Tools turn these into `isError` results whose text names the next step.
 *
 * SEC-REDACT: messages never contain secrets. Request context (the URL with its query, the ArcGIS
 * body) hangs on the error as a non-enumerable property, so `JSON.stringify(err)` and
 * `util.inspect(err)` cannot leak it.
 */
export type ErrorCode =
  // Sign in (again): the user has to act.
  | 'ARCGIS_SIGN_IN_REQUIRED'
  | 'ARCGIS_SESSION_EXPIRED'
  | 'ARCGIS_TOKEN_INVALID'
  | 'ARCGIS_PERMISSION_DENIED'
  | 'ARCGIS_APP_TOKEN_REFUSED'
  | 'OAUTH_NO_PENDING_SIGN_IN'
  | 'OAUTH_STATE_MISMATCH'
  | 'OAUTH_CODE_REJECTED'
  | 'OAUTH_ACCESS_DENIED'
  | 'OAUTH_TIMEOUT'
  // Fix the input or the configuration.
  | 'ARCGIS_INVALID_URL'
  | 'ARCGIS_NOT_A_SERVICE'
  | 'ARCGIS_NOT_FOUND'
  | 'ARCGIS_BAD_REQUEST'
  | 'ARCGIS_HOST_NOT_TRUSTED'
  | 'CONFIG_INVALID'
  | 'KEYCHAIN_UNAVAILABLE'
  // Retry later.
  | 'ARCGIS_UNREACHABLE'
  | 'ARCGIS_TIMEOUT'
  | 'ARCGIS_RATE_LIMITED'
  | 'ARCGIS_SERVER_ERROR'
  | 'ARCGIS_BAD_RESPONSE'
  | 'CANCELLED';

const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'ARCGIS_UNREACHABLE',
  'ARCGIS_TIMEOUT',
  'ARCGIS_RATE_LIMITED',
  'ARCGIS_SERVER_ERROR',
]);

export interface ArcGisMcpErrorOptions {
  /** What the model (or the user) should do next: which tool, what to tell the user. */
  nextStep?: string;
  /** ArcGIS's own numeric code (498, 499, 403, 400, ...) when the error came from an envelope. */
  arcgisCode?: number;
  /** ArcGIS's `messageCode` (GWM_0003, CONT_0001, ...) when present. */
  messageCode?: string;
  /** HTTP status when it was not 200. */
  httpStatus?: number;
  /** Seconds to wait before a retry, from `Retry-After`. */
  retryAfterSeconds?: number;
  /** Request/response context for debugging: kept non-enumerable, never logged unredacted. */
  context?: unknown;
  cause?: unknown;
}

export class ArcGisMcpError extends Error {
  override readonly name = 'ArcGisMcpError';
  readonly code: ErrorCode;
  readonly nextStep: string | undefined;
  readonly arcgisCode: number | undefined;
  readonly messageCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  declare readonly context: unknown;

  constructor(code: ErrorCode, message: string, options: ArcGisMcpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.nextStep = options.nextStep;
    this.arcgisCode = options.arcgisCode;
    this.messageCode = options.messageCode;
    this.httpStatus = options.httpStatus;
    this.retryAfterSeconds = options.retryAfterSeconds;
    Object.defineProperty(this, 'context', { value: options.context, enumerable: false });
    // `cause` may be an undici error holding the request; keep it out of enumeration too.
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
    }
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The message and next step as one text, for a tool result. */
  toUserText(): string {
    return this.nextStep ? `${this.message}\nNext step: ${this.nextStep}` : this.message;
  }

  /**
   * `util.inspect` prints `cause` even when it is non-enumerable, and a cause may be an undici
   * error holding a URL or headers: show only the safe fields (SEC-REDACT).
   */
  [inspect.custom](): string {
    return `${this.name} [${this.code}]: ${this.toUserText()}`;
  }

  toJSON(): { name: string; code: ErrorCode; message: string; nextStep?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.nextStep ? { nextStep: this.nextStep } : {}),
    };
  }
}

export function isArcGisMcpError(e: unknown): e is ArcGisMcpError {
  return e instanceof ArcGisMcpError;
}
