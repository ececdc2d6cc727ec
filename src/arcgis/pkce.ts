import { createHash, randomBytes } from 'node:crypto';

/**
 * PKCE (RFC 7636). AUTH-PKCE-S256: a fresh 32-byte verifier per sign-in (RFC 7636 §4.1 recommends
 * 32 octets → 43 base64url characters) and its S256 challenge (§4.2). `plain` is never produced:
 * RFC 9700 §2.1.1 forbids it where S256 is possible, and ArcGIS supports S256 (Online since 2020,
 * Enterprise 10.8.1+, arcgis-protocol.md §3).
 */
export interface PkcePair {
  readonly verifier: string;
  readonly challenge: string;
  readonly method: 'S256';
}

export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 §4.2. */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function createPkcePair(): PkcePair {
  const verifier = createCodeVerifier();
  return { verifier, challenge: s256Challenge(verifier), method: 'S256' };
}

/** An unguessable state (AUTH-STATE: ≥128 bits; we use 256). */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}
