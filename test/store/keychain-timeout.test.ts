import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stopKeychainHelper } from '../../src/auth/store/keychain-helper.js';
import { KeychainStore } from '../../src/auth/store/keychain-store.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { withTempDir } from './helpers.js';

/**
 * STORE-TIMEOUT against broken session buses. Keychain calls run in a helper child process that
 * inherits process.env when it starts, so each test points the environment at a broken bus and
 * restarts the helper; afterEach restores both.
 */
const savedEnv = {
  DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR,
};

function setEnv(name: keyof typeof savedEnv, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

afterEach(() => {
  stopKeychainHelper();
  setEnv('DBUS_SESSION_BUS_ADDRESS', savedEnv.DBUS_SESSION_BUS_ADDRESS);
  setEnv('XDG_RUNTIME_DIR', savedEnv.XDG_RUNTIME_DIR);
});

async function failure(store: KeychainStore): Promise<{ error: ArcGisMcpError; ms: number }> {
  const started = performance.now();
  const error = await store.get('store-timeout-probe').then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(error).toBeInstanceOf(ArcGisMcpError);
  return { error: error as ArcGisMcpError, ms };
}

describe.runIf(process.platform === 'linux')('keychain with a broken session bus', () => {
  it('STORE-TIMEOUT: a bogus DBUS_SESSION_BUS_ADDRESS fails fast with KEYCHAIN_UNAVAILABLE', async () => {
    await withTempDir(async (dir) => {
      stopKeychainHelper();
      setEnv('DBUS_SESSION_BUS_ADDRESS', `unix:path=${join(dir, 'no-such-bus')}`);
      const { error, ms } = await failure(new KeychainStore({ timeoutMs: 3000 }));
      expect(error.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(error.message).toMatch(/unavailable/);
      expect(error.nextStep).toMatch(/ARCGIS_TOKEN_STORE=file/);
      // Starting the helper process costs tens of milliseconds; the keychain answer is immediate.
      expect(ms).toBeLessThan(2000);
    });
  });

  it('STORE-TIMEOUT: a bus that accepts but never answers is cut off at the deadline, and the server stays responsive', async () => {
    await withTempDir(async (dir) => {
      const socket = join(dir, 'hung-bus');
      // Accepts the D-Bus connection and never replies: without the helper process, the
      // keyring's synchronous connect would block the event loop for good.
      const server: Server = createServer((conn) => conn.on('data', () => undefined));
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      try {
        stopKeychainHelper();
        setEnv('DBUS_SESSION_BUS_ADDRESS', `unix:path=${socket}`);
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 20);
        const { error, ms } = await failure(new KeychainStore({ timeoutMs: 400 }));
        clearInterval(ticker);
        expect(error.code).toBe('KEYCHAIN_UNAVAILABLE');
        expect(error.message).toMatch(/did not answer within 400 ms/);
        expect(ms).toBeGreaterThanOrEqual(390);
        expect(ms).toBeLessThan(1500);
        expect(ticks).toBeGreaterThan(5);

        // The wedged helper was killed: the next call gets its own deadline, not a queue behind it.
        const again = await failure(new KeychainStore({ timeoutMs: 400 }));
        expect(again.error.code).toBe('KEYCHAIN_UNAVAILABLE');
        expect(again.ms).toBeLessThan(1500);
      } finally {
        stopKeychainHelper();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  it('STORE-TIMEOUT: with no bus at all, the error says so and names DBUS_SESSION_BUS_ADDRESS', async () => {
    await withTempDir(async (dir) => {
      stopKeychainHelper();
      setEnv('DBUS_SESSION_BUS_ADDRESS', undefined);
      setEnv('XDG_RUNTIME_DIR', dir);
      const fallbackBus = `/run/user/${process.getuid?.() ?? 0}/bus`;
      const { existsSync } = await import('node:fs');
      if (existsSync(fallbackBus)) return; // a real session bus here: nothing to prove
      const { error, ms } = await failure(new KeychainStore({ timeoutMs: 3000 }));
      expect(error.code).toBe('KEYCHAIN_UNAVAILABLE');
      expect(error.message).toMatch(/DBUS_SESSION_BUS_ADDRESS/);
      expect(ms).toBeLessThan(2000);
    });
  });
});
