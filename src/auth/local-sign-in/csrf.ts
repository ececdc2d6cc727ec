import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from './safe-compare.js';

/** The hidden form field that carries the token. */
export const CSRF_FIELD = 'csrf';

/**
 * Synchronizer token for the local sign-in page (OWASP CSRF Prevention Cheat Sheet, "HMAC based
 * token pattern"): 256 random key bits, held only in this process, and an HMAC-SHA256 over the
 * page id, so a token belongs to exactly one sign-in page of one server run. It travels only in
 * the hidden field of forms served by that page, never in a URL or a cookie.
 */
export interface CsrfGuard {
  /** The token to embed in every form of the page. */
  readonly token: string;
  /** Constant-time check of a submitted value. */
  verify(candidate: string | null | undefined): boolean;
}

export function createCsrfGuard(pageId: string): CsrfGuard {
  const key = randomBytes(32);
  const token = createHmac('sha256', key)
    .update(`arcgis-mcp local sign-in page:${pageId}`)
    .digest('base64url');
  return {
    token,
    verify: (candidate) => typeof candidate === 'string' && candidate !== '' && safeEqual(candidate, token),
  };
}
