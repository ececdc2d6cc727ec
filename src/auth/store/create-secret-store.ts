import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CREDENTIALS_FILE_NAME, FileStore } from './file-store.js';
import { DEFAULT_KEYCHAIN_TIMEOUT_MS, KeychainStore } from './keychain-store.js';
import { MemoryStore } from './memory-store.js';
import type { SecretStore, SecretStoreKind } from './secret-store.js';

export interface CreateSecretStoreOptions {
  /** The config directory (ARCGIS_CONFIG_DIR); the `file` store keeps credentials.json here. */
  configDir: string;
  /** Deadline for each keychain call (STORE-TIMEOUT); default 3000 ms. */
  timeoutMs?: number;
}

/**
 * The store ARCGIS_TOKEN_STORE asked for. `keychain` is the default; `file` and `memory` exist
 * only as explicit opt-ins (STORE-KEYCHAIN-FIRST, STORE-EXPLICIT-FALLBACK): a keychain failure is
 * reported as KEYCHAIN_UNAVAILABLE, never answered by silently switching stores.
 */
export function createSecretStore(kind: SecretStoreKind, options: CreateSecretStoreOptions): SecretStore {
  switch (kind) {
    case 'keychain':
      return new KeychainStore(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    case 'file':
      return new FileStore({ path: join(options.configDir, CREDENTIALS_FILE_NAME) });
    case 'memory':
      return new MemoryStore();
  }
}

export interface SecretServiceProbe {
  available: boolean;
  /** Why not, when unavailable (the keychain's own words; no secret). */
  reason?: string;
}

/**
 * Checks that the OS keychain really works here: set, get and delete a throwaway entry. Used by
 * `doctor` and by the tests (a Secret Service that is present but locked fails here, not later).
 */
export async function probeSecretService(
  timeoutMs: number = DEFAULT_KEYCHAIN_TIMEOUT_MS,
): Promise<SecretServiceProbe> {
  const store = new KeychainStore({ timeoutMs });
  const account = `probe-${process.pid}-${randomBytes(6).toString('hex')}`;
  const value = randomBytes(12).toString('hex');
  let stored = false;
  try {
    await store.set(account, value);
    stored = true;
    const readBack = await store.get(account);
    await store.delete(account);
    stored = false;
    if (readBack !== value) return { available: false, reason: 'the probe entry did not read back' };
    return { available: true };
  } catch (error) {
    // Clean up only what was written: after a failed set there is nothing to delete, and a second
    // call to an unresponsive keychain would only double the wait.
    if (stored) await store.delete(account).catch(() => undefined);
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
