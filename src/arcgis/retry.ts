/**
 * REL-BACKOFF: 429, 503 and 504 (as HTTP status or envelope code) are retried with bounded
 * exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"),
 * honouring `Retry-After` when present. ArcGIS Online documents a one-minute cool-off for rate
 * limits but not the header itself (arcgis-protocol.md §2, [U]): we read it when it is there.
 */
export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited out: the caller gets the error and the wait time. */
  maxRetryAfterMs: number;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 20_000,
  random: Math.random,
};

/** Delay before retry number `attempt` (0-based), or null when the server asked for more than we wait. */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterSeconds?: number,
): number | null {
  if (retryAfterSeconds !== undefined) {
    const ms = retryAfterSeconds * 1000;
    return ms > policy.maxRetryAfterMs ? null : ms;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(policy.random() * ceiling);
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  // Only an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") counts: V8's Date.parse reads "-5" or
  // "2.5" as dates, which would turn a malformed header into "retry now".
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v.trim())) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
