import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string comparison for capability values (the sign-in page id, the CSRF token).
 * Both sides are hashed first so that inputs of any length compare in the same time and
 * `timingSafeEqual` never throws on a length mismatch (OWASP CSRF Prevention Cheat Sheet:
 * compare tokens in constant time).
 */
export function safeEqual(candidate: string, expected: string): boolean {
  const a = createHash('sha256').update(candidate, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
