import { describe, expect, it } from 'vitest';
import { ensureSessionBusAddress } from '../../src/auth/store/session-bus.js';

describe('session bus discovery (MCP clients strip DBUS_SESSION_BUS_ADDRESS)', () => {
  it('keeps an address that is already set', () => {
    const env: Record<string, string | undefined> = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x/bus' };
    expect(ensureSessionBusAddress(env, { platform: 'linux', uid: 1000, socketExists: () => true })).toBe(
      'unix:path=/x/bus',
    );
    expect(env.DBUS_SESSION_BUS_ADDRESS).toBe('unix:path=/x/bus');
  });

  it('tries $XDG_RUNTIME_DIR/bus first and sets the variable for the process', () => {
    const env: Record<string, string | undefined> = { XDG_RUNTIME_DIR: '/run/user/1000/' };
    const seen: string[] = [];
    const address = ensureSessionBusAddress(env, {
      platform: 'linux',
      uid: 1000,
      socketExists: (p) => (seen.push(p), true),
    });
    expect(address).toBe('unix:path=/run/user/1000/bus');
    expect(env.DBUS_SESSION_BUS_ADDRESS).toBe('unix:path=/run/user/1000/bus');
    expect(seen).toEqual(['/run/user/1000/bus']);
  });

  it('falls back to /run/user/<uid>/bus when XDG_RUNTIME_DIR is missing or has no bus', () => {
    const env: Record<string, string | undefined> = { XDG_RUNTIME_DIR: '/tmp/elsewhere' };
    const address = ensureSessionBusAddress(env, {
      platform: 'linux',
      uid: 1234,
      socketExists: (p) => p === '/run/user/1234/bus',
    });
    expect(address).toBe('unix:path=/run/user/1234/bus');
    expect(env.DBUS_SESSION_BUS_ADDRESS).toBe(address);
  });

  it('gives up without inventing an address when no socket exists', () => {
    const env: Record<string, string | undefined> = {};
    expect(
      ensureSessionBusAddress(env, { platform: 'linux', uid: 1000, socketExists: () => false }),
    ).toBeUndefined();
    expect(env).not.toHaveProperty('DBUS_SESSION_BUS_ADDRESS');
  });

  it('does nothing on macOS and Windows (no D-Bus there)', () => {
    const env: Record<string, string | undefined> = {};
    expect(
      ensureSessionBusAddress(env, { platform: 'darwin', uid: 501, socketExists: () => true }),
    ).toBeUndefined();
    expect(ensureSessionBusAddress(env, { platform: 'win32', socketExists: () => true })).toBeUndefined();
    expect(env).toEqual({});
  });
});
