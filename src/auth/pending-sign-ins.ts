import { createPkcePair, createState } from '../arcgis/pkce.js';
import { ArcGisMcpError } from '../errors.js';

/**
 * Sign-ins that were started (`arcgis_auth_url`) and not yet finished. AUTH-STATE: the state is
 * 256 random bits, single-use, valid 10 minutes, and bound to the profile, portal, client, redirect
 * and PKCE verifier. The verifier never leaves this process (RFC 7636 §1, AUTH-NO-SECRET-IN-CHAT).
 */
export const PENDING_SIGN_IN_TTL_MS = 10 * 60 * 1000;

export interface PendingSignIn {
  readonly profile: string;
  readonly portalUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly codeVerifier: string;
  readonly codeChallenge: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

declare const validated: unique symbol;
/**
 * A pending sign-in taken out of the table after its checks passed. Only `PendingSignIns.take*`
 * produces one, and only a value of this type can be redeemed (style.md: unsafe states are
 * unrepresentable; the state check cannot be skipped by accident).
 */
export type ValidatedSignIn = PendingSignIn & { readonly [validated]: true };

export class PendingSignIns {
  private readonly byState = new Map<string, PendingSignIn>();

  constructor(private readonly now: () => number = Date.now) {}

  start(input: { profile: string; portalUrl: string; clientId: string; redirectUri: string }): PendingSignIn {
    this.sweep();
    const pkce = createPkcePair();
    const createdAt = this.now();
    const pending: PendingSignIn = {
      ...input,
      state: createState(),
      codeVerifier: pkce.verifier,
      codeChallenge: pkce.challenge,
      createdAt,
      expiresAt: createdAt + PENDING_SIGN_IN_TTL_MS,
    };
    this.byState.set(pending.state, pending);
    return pending;
  }

  /**
   * Loopback callback: the state that came back must match a pending sign-in of this profile.
   * Missing, unknown, replayed (already taken) and expired states are all rejected here, before
   * any token request (AUTH-STATE).
   */
  takeByState(profile: string, state: string | null | undefined): ValidatedSignIn {
    this.sweep();
    if (!state) {
      throw new ArcGisMcpError('OAUTH_STATE_MISMATCH', 'The sign-in answer carried no state parameter.', {
        nextStep: 'Start again with arcgis_auth_url.',
      });
    }
    const pending = this.byState.get(state);
    if (!pending || pending.profile !== profile) {
      throw new ArcGisMcpError(
        'OAUTH_STATE_MISMATCH',
        'The sign-in answer does not belong to a sign-in this server started (unknown, already used or expired state).',
        { nextStep: 'Start again with arcgis_auth_url and use the newest link.' },
      );
    }
    this.byState.delete(state);
    return pending as ValidatedSignIn;
  }

  /**
   * Out-of-band: the user pastes only the code (ArcGIS's OOB page shows no state), so the newest
   * pending OOB sign-in of the profile is the one it belongs to. It is still single-use and
   * expires after 10 minutes; a code from any other sign-in fails PKCE at the portal because the
   * verifier will not match (RFC 7636 §4.6).
   */
  takeLatest(profile: string, redirectUri?: string): ValidatedSignIn {
    this.sweep();
    const matches = (p: PendingSignIn) =>
      p.profile === profile && (redirectUri === undefined || p.redirectUri === redirectUri);
    let latest: PendingSignIn | undefined;
    for (const p of this.byState.values()) {
      if (matches(p) && (!latest || p.createdAt >= latest.createdAt)) {
        latest = p;
      }
    }
    if (!latest) {
      throw new ArcGisMcpError(
        'OAUTH_NO_PENDING_SIGN_IN',
        'There is no sign-in waiting for a code (none was started, it was already used, or it is older than 10 minutes).',
        {
          nextStep:
            'Call arcgis_auth_url, have the user sign in with the new link, then call arcgis_exchange_code with the new code.',
        },
      );
    }
    // Taking the newest retires the older ones too: only one OOB sign-in per profile is live.
    for (const [state, p] of this.byState) {
      if (matches(p)) this.byState.delete(state);
    }
    return latest as ValidatedSignIn;
  }

  has(profile: string): boolean {
    this.sweep();
    for (const p of this.byState.values()) if (p.profile === profile) return true;
    return false;
  }

  cancel(profile: string): void {
    for (const [state, p] of this.byState) if (p.profile === profile) this.byState.delete(state);
  }

  private sweep(): void {
    const now = this.now();
    for (const [state, p] of this.byState) if (p.expiresAt <= now) this.byState.delete(state);
  }
}
