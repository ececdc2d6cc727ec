/**
 * Every credential the server holds knows what it represents (product.md rule 3): a **user** (an
 * OAuth sign-in, a generateToken token, a pasted token classified as a user's) or an **app**
 * (client_credentials, an API key, the "temporary token" of a registered app). App tokens are
 * never sent to portal content or feature services (NET-TWO-LEGGED).
 */
export type CredentialKind = 'user' | 'app';

export type CredentialSource =
  'oauth' | 'generate-token' | 'pasted-token' | 'environment-token' | 'client-credentials';

export interface Credential {
  readonly kind: CredentialKind;
  readonly source: CredentialSource;
  /** The portal that issued it (base URL, no `/sharing/rest`). */
  readonly portalUrl: string;
  /** The user it acts for; undefined for app credentials. */
  readonly username: string | undefined;
  readonly accessToken: string;
  /** Epoch ms. */
  readonly accessExpiresAt: number;
  /** `client=referer` generateToken tokens must be sent with this Referer (arcgis-protocol.md §4). */
  readonly referer?: string;
}

export function isUserCredential(
  c: Credential | null | undefined,
): c is Credential & { kind: 'user'; username: string } {
  return !!c && c.kind === 'user' && typeof c.username === 'string';
}
