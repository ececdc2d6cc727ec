import type { SecretStore } from './secret-store.js';

/**
 * STORE-EXPLICIT-FALLBACK: `ARCGIS_TOKEN_STORE=memory` keeps secrets in this process only; they
 * are gone when it exits, so the user signs in again next time. Nothing touches the disk.
 */
export class MemoryStore implements SecretStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, string>();

  describe(): string {
    return 'memory only (nothing is kept after the server exits)';
  }

  get(account: string): Promise<string | null> {
    return Promise.resolve(this.entries.get(account) ?? null);
  }

  set(account: string, value: string): Promise<void> {
    this.entries.set(account, value);
    return Promise.resolve();
  }

  delete(account: string): Promise<boolean> {
    return Promise.resolve(this.entries.delete(account));
  }
}
