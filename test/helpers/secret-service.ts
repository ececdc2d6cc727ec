import { describe } from 'vitest';
import { probeSecretService } from '../../src/auth/store/create-secret-store.js';

/**
 * Whether a real Secret Service answers here, probed once per test file (set + get + delete of a
 * throwaway entry, so a locked keyring counts as unavailable).
 *
 * Keychain tests never skip silently: without a Secret Service they print why and how to get one,
 * and with ARCGIS_REQUIRE_KEYCHAIN=1 (set by .ci/run) they fail instead, so CI cannot pass
 * without having run them.
 */
const probe = await probeSecretService();

export const secretService: { available: boolean; reason: string } = {
  available: probe.available,
  reason: probe.reason ?? '',
};

const HOW =
  "run inside dbus-run-session with an unlocked gnome-keyring, e.g. dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; npx vitest run test/store' (see .ci/run)";

if (!secretService.available) {
  if (process.env.ARCGIS_REQUIRE_KEYCHAIN === '1') {
    throw new Error(
      `ARCGIS_REQUIRE_KEYCHAIN=1 but no usable Secret Service: ${secretService.reason}; ${HOW}`,
    );
  }
  console.warn(`[keychain tests skipped] no Secret Service: ${secretService.reason}; ${HOW}`);
}

/** `describe` when a Secret Service is usable, a visibly announced `describe.skip` otherwise. */
export const describeKeychain = secretService.available ? describe : describe.skip;
