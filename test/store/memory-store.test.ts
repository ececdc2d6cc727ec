import { describe, expect, it } from 'vitest';
import { createSecretStore } from '../../src/auth/store/create-secret-store.js';
import { withTempDir } from './helpers.js';
import { readdir } from 'node:fs/promises';

describe('memory store (ARCGIS_TOKEN_STORE=memory)', () => {
  it('STORE-EXPLICIT-FALLBACK: memory keeps nothing beyond the process and writes nothing to disk', async () => {
    await withTempDir(async (configDir) => {
      const store = createSecretStore('memory', { configDir });
      expect(store.kind).toBe('memory');
      expect(store.describe()).toMatch(/memory only/);
      expect(await store.get('portal/alice')).toBeNull();
      await store.set('portal/alice', 'a');
      expect(await store.get('portal/alice')).toBe('a');
      expect(await readdir(configDir)).toEqual([]);
      // A new store (a restarted server) starts empty.
      expect(await createSecretStore('memory', { configDir }).get('portal/alice')).toBeNull();
      expect(await store.delete('portal/alice')).toBe(true);
      expect(await store.delete('portal/alice')).toBe(false);
      expect(await store.get('portal/alice')).toBeNull();
    });
  });
});
