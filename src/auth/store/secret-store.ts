/**
 * The narrow storage port for long-lived secrets (refresh tokens, and the credentials the local
 * sign-in page collects). Access tokens never come here: they live in memory only.
 *
 * STORE-KEYCHAIN-FIRST: the default adapter is the OS keychain; `file` (0600, atomic) and `memory`
 * exist only when the user asks for them with ARCGIS_TOKEN_STORE (STORE-EXPLICIT-FALLBACK).
 */
export type SecretStoreKind = 'keychain' | 'file' | 'memory';

export interface SecretStore {
  readonly kind: SecretStoreKind;
  /** Where the secret lives, for `arcgis_whoami` ("OS keychain (Secret Service)", a file path, "memory only"). */
  describe(): string;
  /** The stored value for `account`, or null when there is none. Throws KEYCHAIN_UNAVAILABLE on failure. */
  get(account: string): Promise<string | null>;
  /** Stores `value` for `account`; resolves only once it is durable (STORE-ROTATION-SAFE). */
  set(account: string, value: string): Promise<void>;
  /** Deletes `account`; resolves true when something was deleted. */
  delete(account: string): Promise<boolean>;
}

/** The keychain service name every entry is filed under (STORE-KEYCHAIN-FIRST). */
export const KEYCHAIN_SERVICE = 'arcgis-mcp';
