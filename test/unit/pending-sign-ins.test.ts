import { describe, expect, it } from 'vitest';
import { OOB_REDIRECT_URI } from '../../src/arcgis/oauth.js';
import { s256Challenge } from '../../src/arcgis/pkce.js';
import { PENDING_SIGN_IN_TTL_MS, PendingSignIns } from '../../src/auth/pending-sign-ins.js';
import { ArcGisMcpError } from '../../src/errors.js';

const LOOPBACK = 'http://127.0.0.1:7777/callback';

function clock(start = 1_750_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

function startFor(pending: PendingSignIns, profile = 'default', redirectUri = LOOPBACK) {
  return pending.start({
    profile,
    portalUrl: 'https://www.arcgis.com/',
    clientId: 'client-abc',
    redirectUri,
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ArcGisMcpError) return e.code;
    throw e;
  }
  return undefined;
}

describe('PendingSignIns (AUTH-STATE)', () => {
  it('AUTH-STATE: the state has at least 128 bits and each sign-in gets its own', () => {
    const pending = new PendingSignIns();
    const a = startFor(pending);
    const b = startFor(pending);
    expect(Buffer.from(a.state, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(a.state).not.toBe(b.state);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
  });

  it('AUTH-STATE: the pending sign-in is bound to portal, client, redirect and verifier', () => {
    const pending = new PendingSignIns();
    const p = startFor(pending);
    const taken = pending.takeByState('default', p.state);
    expect(taken).toMatchObject({
      profile: 'default',
      portalUrl: 'https://www.arcgis.com/',
      clientId: 'client-abc',
      redirectUri: LOOPBACK,
      codeVerifier: p.codeVerifier,
    });
    expect(s256Challenge(taken.codeVerifier)).toBe(p.codeChallenge);
  });

  it('AUTH-STATE: a replayed state is rejected', () => {
    const pending = new PendingSignIns();
    const p = startFor(pending);
    pending.takeByState('default', p.state);
    expect(codeOf(() => pending.takeByState('default', p.state))).toBe('OAUTH_STATE_MISMATCH');
  });

  it('AUTH-STATE: an unknown state is rejected and does not consume the real one', () => {
    const pending = new PendingSignIns();
    const p = startFor(pending);
    expect(codeOf(() => pending.takeByState('default', `${p.state}x`))).toBe('OAUTH_STATE_MISMATCH');
    expect(pending.takeByState('default', p.state).state).toBe(p.state);
  });

  it.each([null, undefined, ''])('AUTH-STATE: a missing state (%j) is rejected', (state) => {
    const pending = new PendingSignIns();
    startFor(pending);
    expect(codeOf(() => pending.takeByState('default', state))).toBe('OAUTH_STATE_MISMATCH');
  });

  it('AUTH-STATE: a state expires after 10 minutes', () => {
    const c = clock();
    const pending = new PendingSignIns(c.now);
    const p = startFor(pending);
    expect(p.expiresAt - p.createdAt).toBeLessThanOrEqual(10 * 60 * 1000);
    c.t += PENDING_SIGN_IN_TTL_MS;
    expect(codeOf(() => pending.takeByState('default', p.state))).toBe('OAUTH_STATE_MISMATCH');
  });

  it('AUTH-STATE: a state is still good just before 10 minutes', () => {
    const c = clock();
    const pending = new PendingSignIns(c.now);
    const p = startFor(pending);
    c.t += 10 * 60 * 1000 - 1;
    expect(pending.takeByState('default', p.state).state).toBe(p.state);
  });

  it('AUTH-PORTAL-FROM-CONFIG: a state started for one profile cannot complete another', () => {
    const pending = new PendingSignIns();
    const p = startFor(pending, 'work');
    expect(codeOf(() => pending.takeByState('home', p.state))).toBe('OAUTH_STATE_MISMATCH');
    // and the failed attempt did not burn it for its own profile
    expect(pending.takeByState('work', p.state).profile).toBe('work');
  });

  it('the rejection names the next step (arcgis_auth_url)', () => {
    const pending = new PendingSignIns();
    try {
      pending.takeByState('default', 'nope');
      expect.unreachable();
    } catch (e) {
      expect((e as ArcGisMcpError).nextStep).toContain('arcgis_auth_url');
    }
  });
});

describe('PendingSignIns out-of-band (takeLatest)', () => {
  it('AUTH-STATE: takeLatest returns the newest OOB sign-in and retires the older ones', () => {
    const c = clock();
    const pending = new PendingSignIns(c.now);
    const older = startFor(pending, 'default', OOB_REDIRECT_URI);
    c.t += 1000;
    const newer = startFor(pending, 'default', OOB_REDIRECT_URI);
    expect(pending.takeLatest('default', OOB_REDIRECT_URI).state).toBe(newer.state);
    expect(codeOf(() => pending.takeLatest('default', OOB_REDIRECT_URI))).toBe('OAUTH_NO_PENDING_SIGN_IN');
    expect(codeOf(() => pending.takeByState('default', older.state))).toBe('OAUTH_STATE_MISMATCH');
  });

  it('AUTH-STATE: an OOB sign-in is single use', () => {
    const pending = new PendingSignIns();
    startFor(pending, 'default', OOB_REDIRECT_URI);
    pending.takeLatest('default', OOB_REDIRECT_URI);
    expect(codeOf(() => pending.takeLatest('default', OOB_REDIRECT_URI))).toBe('OAUTH_NO_PENDING_SIGN_IN');
  });

  it('AUTH-STATE: an OOB sign-in older than 10 minutes cannot be completed', () => {
    const c = clock();
    const pending = new PendingSignIns(c.now);
    startFor(pending, 'default', OOB_REDIRECT_URI);
    c.t += PENDING_SIGN_IN_TTL_MS + 1;
    expect(codeOf(() => pending.takeLatest('default', OOB_REDIRECT_URI))).toBe('OAUTH_NO_PENDING_SIGN_IN');
    expect(pending.has('default')).toBe(false);
  });

  it('takeLatest without any sign-in started is rejected', () => {
    expect(codeOf(() => new PendingSignIns().takeLatest('default', OOB_REDIRECT_URI))).toBe(
      'OAUTH_NO_PENDING_SIGN_IN',
    );
  });

  it('takeLatest ignores other profiles and loopback sign-ins', () => {
    const pending = new PendingSignIns();
    const other = startFor(pending, 'other', OOB_REDIRECT_URI);
    const loop = startFor(pending, 'default', LOOPBACK);
    expect(codeOf(() => pending.takeLatest('default', OOB_REDIRECT_URI))).toBe('OAUTH_NO_PENDING_SIGN_IN');
    expect(pending.takeByState('other', other.state).state).toBe(other.state);
    expect(pending.takeByState('default', loop.state).state).toBe(loop.state);
  });

  it('cancel drops every pending sign-in of the profile only', () => {
    const pending = new PendingSignIns();
    startFor(pending, 'a');
    const b = startFor(pending, 'b');
    pending.cancel('a');
    expect(pending.has('a')).toBe(false);
    expect(pending.has('b')).toBe(true);
    expect(pending.takeByState('b', b.state).profile).toBe('b');
  });
});
