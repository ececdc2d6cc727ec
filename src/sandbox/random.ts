import { randomBytes } from 'node:crypto';

/**
 * Opaque token text. §1: tokens contain `-` and `_` and may end with `.`; about one in four
 * sandbox tokens ends with a dot so a client that trims or mis-encodes them fails early.
 */
export function randomToken(bytes = 48): string {
  const raw = randomBytes(bytes + 1);
  const text = raw.subarray(0, bytes).toString('base64url');
  return (raw[bytes] ?? 0) % 4 === 0 ? `${text}.` : text;
}

/** Authorization codes: random, URL-safe, no trailing dot (they travel in a query string). */
export function randomCode(): string {
  return randomBytes(24).toString('base64url');
}

/** mulberry32: a tiny seeded PRNG, so generated layers are identical on every start. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
