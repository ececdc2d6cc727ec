import { describe, expect, it } from 'vitest';
import { buildAuthorizeUrl } from '../../src/arcgis/oauth.js';
import { createCodeVerifier, createPkcePair, createState, s256Challenge } from '../../src/arcgis/pkce.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe('PKCE (RFC 7636)', () => {
  it('AUTH-PKCE-S256: RFC 7636 appendix B vector', () => {
    expect(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('AUTH-PKCE-S256: the verifier is 32 random bytes as 43 base64url characters', () => {
    const verifier = createCodeVerifier();
    expect(verifier).toHaveLength(43);
    expect(verifier).toMatch(BASE64URL);
    expect(Buffer.from(verifier, 'base64url')).toHaveLength(32);
  });

  it('AUTH-PKCE-S256: every pair has a fresh verifier and its S256 challenge', () => {
    const pairs = Array.from({ length: 50 }, () => createPkcePair());
    expect(new Set(pairs.map((p) => p.verifier)).size).toBe(pairs.length);
    for (const p of pairs) {
      expect(p.method).toBe('S256');
      expect(p.challenge).toBe(s256Challenge(p.verifier));
      expect(p.challenge).not.toBe(p.verifier);
      expect(p.challenge).toHaveLength(43);
      expect(p.challenge).toMatch(BASE64URL);
    }
  });

  it('AUTH-STATE: a state carries at least 128 bits and is never repeated', () => {
    const states = Array.from({ length: 50 }, () => createState());
    expect(new Set(states).size).toBe(states.length);
    for (const s of states) {
      expect(s).toMatch(BASE64URL);
      expect(Buffer.from(s, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });
});

describe('buildAuthorizeUrl', () => {
  const pkce = createPkcePair();
  const state = createState();
  const input = {
    restUrl: new URL('https://www.arcgis.com/sharing/rest'),
    clientId: 'client-abc',
    redirectUri: 'http://127.0.0.1:7777/callback',
    state,
    codeChallenge: pkce.challenge,
  };

  it('AUTH-PKCE-S256: the authorize URL carries the S256 challenge and never plain or the verifier', () => {
    const url = buildAuthorizeUrl(input);
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.getAll('code_challenge_method')).toEqual(['S256']);
    expect(url.href.toLowerCase()).not.toContain('plain');
    expect(url.href).not.toContain(pkce.verifier);
    expect(url.searchParams.has('code_verifier')).toBe(false);
  });

  it('AUTH-STATE: the authorize URL carries the state, the client and the exact redirect URI', () => {
    const url = buildAuthorizeUrl(input);
    expect(url.origin + url.pathname).toBe('https://www.arcgis.com/sharing/rest/oauth2/authorize');
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.searchParams.get('client_id')).toBe('client-abc');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:7777/callback');
  });

  it('keeps an Enterprise web adaptor path and asks for the configured refresh-token lifetime', () => {
    const url = buildAuthorizeUrl({
      ...input,
      restUrl: new URL('https://gis.example.org/portal/sharing/rest/'),
      expirationMinutes: 1440,
    });
    expect(url.pathname).toBe('/portal/sharing/rest/oauth2/authorize');
    expect(url.searchParams.get('expiration')).toBe('1440');
  });

  it('asks for two weeks of refresh-token lifetime by default (arcgis-protocol.md §3)', () => {
    expect(buildAuthorizeUrl(input).searchParams.get('expiration')).toBe('20160');
  });
});
