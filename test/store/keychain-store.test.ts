import { afterAll, expect, it } from 'vitest';
import { createSecretStore } from '../../src/auth/store/create-secret-store.js';
import { KeychainStore } from '../../src/auth/store/keychain-store.js';
import { KEYCHAIN_SERVICE } from '../../src/auth/store/secret-store.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { describeKeychain } from '../helpers/secret-service.js';
import { run, uniqueAccount } from './helpers.js';

const created: string[] = [];
function account(label: string): string {
  const name = uniqueAccount(label);
  created.push(name);
  return name;
}

afterAll(async () => {
  const store = new KeychainStore();
  for (const name of created) await store.delete(name).catch(() => undefined);
});

describeKeychain('keychain store (real Secret Service)', () => {
  it('STORE-KEYCHAIN-FIRST: the default store is the OS keychain under service "arcgis-mcp"', () => {
    const store = createSecretStore('keychain', { configDir: '/nonexistent' });
    expect(store.kind).toBe('keychain');
    expect(store.describe()).toBe(
      process.platform === 'linux'
        ? 'OS keychain (Secret Service, service "arcgis-mcp")'
        : expect.any(String),
    );
  });

  it('STORE-PIN: entries land in the Secret Service (visible to secret-tool)', async () => {
    const store = new KeychainStore();
    const name = account('pin');
    await store.set(name, 'pinned-secret-1');
    // secret-tool speaks only the Secret Service D-Bus API: finding the value there proves the
    // entry is not in the kernel keyring. (@napi-rs/keyring files the account as `username`.)
    const lookup = await run('secret-tool', ['lookup', 'service', KEYCHAIN_SERVICE, 'username', name]);
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toBe('pinned-secret-1');

    // And the other way round: what secret-tool stores, the store reads.
    const stored = await run(
      'secret-tool',
      ['store', '--label', 'arcgis-mcp test', 'service', KEYCHAIN_SERVICE, 'username', name],
      { input: 'from-secret-tool' },
    );
    expect(stored.code).toBe(0);
    expect(await store.get(name)).toBe('from-secret-tool');

    expect(await store.delete(name)).toBe(true);
    const gone = await run('secret-tool', ['lookup', 'service', KEYCHAIN_SERVICE, 'username', name]);
    expect(gone.stdout).toBe('');
  });

  it('a missing entry is null, and deleting it is false (absent, not an error)', async () => {
    const store = new KeychainStore();
    const name = account('missing');
    expect(await store.get(name)).toBeNull();
    expect(await store.delete(name)).toBe(false);
  });

  it('STORE-ROTATION-SAFE: set resolves once the value is readable, and overwrites in place', async () => {
    const store = new KeychainStore();
    const name = account('rotate');
    await store.set(name, 'refresh-1');
    expect(await store.get(name)).toBe('refresh-1');
    await store.set(name, 'refresh-2');
    expect(await store.get(name)).toBe('refresh-2');
    // A second store instance (another part of the server) sees the same entry.
    expect(await new KeychainStore().get(name)).toBe('refresh-2');
    expect(await store.delete(name)).toBe(true);
    expect(await store.get(name)).toBeNull();
  });

  it('keeps unicode and long values intact, and keeps accounts apart', async () => {
    const store = new KeychainStore();
    const a = account('a');
    const b = account('b');
    const long = `é✓ ${'x'.repeat(4000)}`;
    await store.set(a, long);
    await store.set(b, 'other');
    expect(await store.get(a)).toBe(long);
    expect(await store.get(b)).toBe('other');
    await store.delete(a);
    expect(await store.get(b)).toBe('other');
    await store.delete(b);
  });

  it('STORE-TIMEOUT: a healthy Secret Service answers well inside the deadline', async () => {
    const store = new KeychainStore({ timeoutMs: 3000 });
    const name = account('fast');
    const started = performance.now();
    await store.set(name, 'v');
    await store.get(name);
    await store.delete(name);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('STORE-TIMEOUT: failures are KEYCHAIN_UNAVAILABLE with a next step, never a bare error', async () => {
    // A zero deadline cannot be met: the error is the typed one, with what to do next.
    const store = new KeychainStore({ timeoutMs: 0 });
    const error = await store.get(account('zero')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArcGisMcpError);
    expect((error as ArcGisMcpError).code).toBe('KEYCHAIN_UNAVAILABLE');
    expect((error as ArcGisMcpError).nextStep).toMatch(/ARCGIS_TOKEN_STORE=file/);
    expect((error as ArcGisMcpError).nextStep).toMatch(/memory/);
  });
});
