import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretStore } from '../../src/auth/store/create-secret-store.js';
import { FileStore } from '../../src/auth/store/file-store.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { withTempDir } from './helpers.js';

const posix = process.platform !== 'win32';

describe('file store (ARCGIS_TOKEN_STORE=file)', () => {
  it('STORE-EXPLICIT-FALLBACK: <configDir>/credentials.json, described as an opted-in plaintext file', async () => {
    await withTempDir(async (dir) => {
      const store = createSecretStore('file', { configDir: dir });
      expect(store.kind).toBe('file');
      expect(store.describe()).toContain('plaintext file (opted in)');
      expect(store.describe()).toContain(join(dir, 'credentials.json'));
    });
  });

  it.runIf(posix)('STORE-EXPLICIT-FALLBACK: the file is mode 0600 in a 0700 directory', async () => {
    await withTempDir(async (dir) => {
      const configDir = join(dir, 'config', 'arcgis-mcp');
      const store = createSecretStore('file', { configDir });
      await store.set('portal/alice', 'refresh-alice');
      expect((await stat(join(configDir, 'credentials.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(configDir)).mode & 0o777).toBe(0o700);
    });
  });

  it('STORE-EXPLICIT-FALLBACK: writes are atomic and leave no temp or lock file behind', async () => {
    await withTempDir(async (dir) => {
      const store = new FileStore({ path: join(dir, 'credentials.json') });
      for (let i = 0; i < 5; i++) await store.set('portal/alice', `refresh-${i}`);
      expect(await readdir(dir)).toEqual(['credentials.json']);
      const file = JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')) as unknown;
      expect(file).toEqual({ version: 1, entries: { 'portal/alice': 'refresh-4' } });
    });
  });

  it('round-trips values, keeps accounts apart, and survives a new instance (a restart)', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'credentials.json');
      const store = new FileStore({ path });
      expect(await store.get('portal/alice')).toBeNull();
      await store.set('portal/alice', 'a');
      await store.set('portal/bob', 'b');
      const again = new FileStore({ path });
      expect(await again.get('portal/alice')).toBe('a');
      expect(await again.get('portal/bob')).toBe('b');
      expect(await again.get('toString')).toBeNull(); // no prototype leaks
    });
  });

  it('STORE-EXPLICIT-FALLBACK: sign-out deletes the entry, and the file once it is empty', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'credentials.json');
      const store = new FileStore({ path });
      await store.set('portal/alice', 'a');
      await store.set('portal/bob', 'b');
      expect(await store.delete('portal/alice')).toBe(true);
      expect(await store.delete('portal/alice')).toBe(false);
      expect(await store.get('portal/bob')).toBe('b');
      expect(await store.delete('portal/bob')).toBe(true);
      expect(await readdir(dir)).toEqual([]);
      expect(await store.delete('portal/bob')).toBe(false);
    });
  });

  it('concurrent writers (two instances, as in two processes) lose no entry', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'credentials.json');
      const a = new FileStore({ path });
      const b = new FileStore({ path });
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).set(`portal/user${i}`, `token-${i}`)),
      );
      const check = new FileStore({ path });
      for (let i = 0; i < 10; i++) expect(await check.get(`portal/user${i}`)).toBe(`token-${i}`);
    });
  });

  it.runIf(posix)(
    'STORE-EXPLICIT-FALLBACK: a file readable by group or others is refused, not silently used',
    async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, 'credentials.json');
        await writeFile(path, JSON.stringify({ version: 1, entries: { 'portal/alice': 'leaked?' } }));
        await chmod(path, 0o644);
        const store = new FileStore({ path });
        const error = await store.get('portal/alice').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ArcGisMcpError);
        expect((error as ArcGisMcpError).code).toBe('KEYCHAIN_UNAVAILABLE');
        expect((error as ArcGisMcpError).message).toMatch(/readable by other users/);
        expect((error as ArcGisMcpError).message).not.toContain('leaked?');
        expect((error as ArcGisMcpError).nextStep).toContain('chmod 600');
        // Writes are refused too (they read first), and the mode is left for the user to judge.
        await expect(store.set('portal/alice', 'new')).rejects.toMatchObject({
          code: 'KEYCHAIN_UNAVAILABLE',
        });
        expect((await stat(path)).mode & 0o777).toBe(0o644);
        await chmod(path, 0o600);
        expect(await store.get('portal/alice')).toBe('leaked?');
      });
    },
  );

  it('a corrupt file is a typed error with a next step, not a crash', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'credentials.json');
      await writeFile(path, '{not json', { mode: 0o600 });
      await expect(new FileStore({ path }).get('x')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    });
  });

  it('an unwritable location is KEYCHAIN_UNAVAILABLE (STORE-ROTATION-SAFE: a failed save is an error)', async () => {
    await withTempDir(async (dir) => {
      const blocker = join(dir, 'not-a-dir');
      await writeFile(blocker, 'x');
      const store = new FileStore({ path: join(blocker, 'sub', 'credentials.json') });
      await expect(store.set('portal/alice', 'a')).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    });
  });
});
