import { ArcGisMcpError, type ErrorCode } from '../errors.js';
import { quoteUntrusted } from '../redact.js';

/**
 * ArcGIS answers most errors with HTTP 200 and `{"error":{"code","message","details","messageCode"}}`;
 * newer services use real 4xx/5xx with the same body; Content-Type is unreliable
 * (arcgis-protocol.md §1, §2). So: parse the body whatever the status and content type, then
 * decide.
 */
export interface ArcGisErrorBody {
  code: number | undefined;
  message: string;
  messageCode: string | undefined;
  details: string[];
  /** OAuth fields nested inside the envelope on token endpoints (§3). */
  oauthError: string | undefined;
  oauthDescription: string | undefined;
}

/** Extracts the error envelope from a parsed body, or null when the body is not an error. */
export function readErrorEnvelope(body: unknown): ArcGisErrorBody | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const raw = (body as { error: unknown }).error;
  if (typeof raw !== 'object' || raw === null) {
    // `{"error":"invalid_request","error_description":"..."}`: plain OAuth shape, seen from some proxies.
    if (typeof raw === 'string') {
      const description = (body as { error_description?: unknown }).error_description;
      return {
        code: undefined,
        message: typeof description === 'string' ? description : raw,
        messageCode: undefined,
        details: [],
        oauthError: raw,
        oauthDescription: typeof description === 'string' ? description : undefined,
      };
    }
    return null;
  }
  const e = raw as Record<string, unknown>;
  const codeValue = typeof e.code === 'number' ? e.code : typeof e.code === 'string' ? Number(e.code) : NaN;
  // `details` is sometimes a string, sometimes an array, sometimes absent (§1).
  const details = Array.isArray(e.details)
    ? e.details.filter((d): d is string => typeof d === 'string')
    : typeof e.details === 'string'
      ? [e.details]
      : [];
  return {
    code: Number.isFinite(codeValue) ? codeValue : undefined,
    message: typeof e.message === 'string' ? e.message : 'Unknown ArcGIS error',
    messageCode: typeof e.messageCode === 'string' ? e.messageCode : undefined,
    details,
    oauthError: typeof e.error === 'string' ? e.error : undefined,
    oauthDescription: typeof e.error_description === 'string' ? e.error_description : undefined,
  };
}

/** Maps an ArcGIS error code to the project's error family (security.md, arcgis-protocol.md §2). */
export function errorCodeFor(envelope: Pick<ArcGisErrorBody, 'code' | 'messageCode'>): ErrorCode {
  switch (envelope.code) {
    case 498:
      return 'ARCGIS_TOKEN_INVALID';
    case 499:
      return 'ARCGIS_SIGN_IN_REQUIRED';
    case 401:
    case 403:
      return 'ARCGIS_PERMISSION_DENIED';
    case 404:
      return 'ARCGIS_NOT_FOUND';
    case 400:
      // CONT_0001: "Item does not exist or is inaccessible." (§2)
      return envelope.messageCode === 'CONT_0001' ? 'ARCGIS_NOT_FOUND' : 'ARCGIS_BAD_REQUEST';
    case 429:
      return 'ARCGIS_RATE_LIMITED';
    case 504:
      return 'ARCGIS_TIMEOUT';
    default:
      if (envelope.code !== undefined && envelope.code >= 500) return 'ARCGIS_SERVER_ERROR';
      return 'ARCGIS_BAD_REQUEST';
  }
}

/** The text a user can act on: ArcGIS's message plus its details, deduplicated. */
export function describeEnvelope(envelope: ArcGisErrorBody): string {
  const parts = [envelope.oauthDescription ?? envelope.message];
  for (const d of envelope.details) if (d && !parts.includes(d)) parts.push(d);
  return parts.join(' — ');
}

/** What to do about the faults a caller cannot fix by changing its input (style.md §2). */
const DEFAULT_NEXT_STEPS: Partial<Record<ErrorCode, (retryAfterSeconds?: number) => string>> = {
  ARCGIS_RATE_LIMITED: (s) =>
    `ArcGIS is rate-limiting requests (it asks for a cool-off of about a minute${s !== undefined ? `; Retry-After: ${s} s` : ''}): wait, then try again with fewer or smaller queries (returnCountOnly, a narrower where).`,
  ARCGIS_SERVER_ERROR: () =>
    'The service is busy or failing: try again in a moment; if it persists, tell the user the ArcGIS service has a problem.',
  ARCGIS_TIMEOUT: () => 'The service timed out: try again with a smaller limit or a narrower where clause.',
  ARCGIS_NOT_FOUND: () =>
    'Check the URL: the item or layer does not exist, or the signed-in user cannot see it.',
  ARCGIS_BAD_REQUEST: () =>
    'Fix the request (field names, where clause) using the message above, then try again.',
};

export function envelopeToError(
  envelope: ArcGisErrorBody,
  extra: { httpStatus?: number; retryAfterSeconds?: number; context?: unknown } = {},
): ArcGisMcpError {
  const code = errorCodeFor(envelope);
  const nextStep = DEFAULT_NEXT_STEPS[code]?.(extra.retryAfterSeconds);
  // SEC-UNTRUSTED-DATA: ArcGIS's text is data: quoted, length-capped, control characters removed.
  return new ArcGisMcpError(
    code,
    `ArcGIS error ${envelope.code ?? '?'}: ${quoteUntrusted(describeEnvelope(envelope))}`,
    {
      ...(nextStep ? { nextStep } : {}),
      ...(envelope.code !== undefined ? { arcgisCode: envelope.code } : {}),
      ...(envelope.messageCode !== undefined ? { messageCode: envelope.messageCode } : {}),
      ...extra,
    },
  );
}

/**
 * Parses a response body into JSON and throws the typed error when it is an ArcGIS error envelope,
 * an HTML page (a sign-in page, a proxy error), or not JSON at all (REL-BAD-INPUT).
 */
export function parseArcGisResponse(
  status: number,
  text: string,
  extra: { retryAfterSeconds?: number; context?: unknown } = {},
): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const looksHtml = /^\s*</.test(text);
    if (status === 429 || status === 503 || status === 504 || status >= 500) {
      return throwStatus(status, extra);
    }
    throw new ArcGisMcpError(
      'ARCGIS_BAD_RESPONSE',
      looksHtml
        ? `The server answered with an HTML page (HTTP ${status}) instead of ArcGIS JSON: the URL may not be an ArcGIS REST endpoint, or a proxy or sign-in page is in the way.`
        : `The server's answer (HTTP ${status}) is not valid JSON.`,
      {
        httpStatus: status,
        nextStep: 'Check that the URL is an ArcGIS REST service or layer URL (…/FeatureServer/0).',
        ...extra,
      },
    );
  }
  const envelope = readErrorEnvelope(body);
  if (envelope) {
    if (envelope.code === undefined && status >= 400) envelope.code = status;
    throw envelopeToError(envelope, { ...(status !== 200 ? { httpStatus: status } : {}), ...extra });
  }
  if (status >= 400) return throwStatus(status, extra);
  return body;
}

function throwStatus(status: number, extra: { retryAfterSeconds?: number; context?: unknown }): never {
  const envelope: ArcGisErrorBody = {
    code: status,
    message: `HTTP ${status}`,
    messageCode: undefined,
    details: [],
    oauthError: undefined,
    oauthDescription: undefined,
  };
  throw envelopeToError(envelope, { httpStatus: status, ...extra });
}
