import { ArcGisMcpError } from '../../errors.js';
import { callKeychain, KeychainCallError } from './keychain-helper.js';
import type { KeychainOperation } from './keychain-helper.js';
import { KEYCHAIN_SERVICE } from './secret-store.js';
import type { SecretStore } from './secret-store.js';

/** STORE-TIMEOUT: ~3 s, like `gh auth`; a healthy Secret Service answers in a few milliseconds. */
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 3000;

export const KEYCHAIN_NEXT_STEP =
  'Unlock your keyring (or start gnome-keyring / another Secret Service provider in your desktop session), ' +
  'then try again. Or opt in to another store: set ARCGIS_TOKEN_STORE=file to keep the refresh token in a ' +
  '0600 file in the config directory, or ARCGIS_TOKEN_STORE=memory to keep nothing beyond this process.';

export interface KeychainStoreOptions {
  /** Deadline for each keychain call (STORE-TIMEOUT). */
  timeoutMs?: number;
  /** The keychain service name; tests may use their own. */
  service?: string;
  platform?: NodeJS.Platform;
}

/** The keychain's name on this platform, for `describe()` and error messages. */
export function keychainName(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

/**
 * STORE-KEYCHAIN-FIRST: the default store, the OS keychain through @napi-rs/keyring, pinned to
 * the Secret Service on Linux (STORE-PIN), every call bounded (STORE-TIMEOUT).
 *
 * "No entry" and "cannot read" are different answers: @napi-rs/keyring resolves `null` (get) and
 * `false` (delete) only when the credential is absent, and rejects when the store is locked,
 * missing or unreachable (checked against gnome-keyring: a locked collection rejects with "unlock
 * prompt was dismissed"). Rejections become KEYCHAIN_UNAVAILABLE, never a silent `null` that would
 * look like "signed out".
 */
export class KeychainStore implements SecretStore {
  readonly kind = 'keychain' as const;
  private readonly timeoutMs: number;
  private readonly service: string;
  private readonly platform: NodeJS.Platform;

  constructor(options: KeychainStoreOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
    this.service = options.service ?? KEYCHAIN_SERVICE;
    this.platform = options.platform ?? process.platform;
  }

  describe(): string {
    return `OS keychain (${keychainName(this.platform)}, service "${this.service}")`;
  }

  async get(account: string): Promise<string | null> {
    const value = await this.call({ op: 'get', service: this.service, account });
    return typeof value === 'string' ? value : null;
  }

  async set(account: string, value: string): Promise<void> {
    // Resolves after the Secret Service acknowledged the write (STORE-ROTATION-SAFE).
    await this.call({ op: 'set', service: this.service, account, value });
  }

  async delete(account: string): Promise<boolean> {
    return (await this.call({ op: 'delete', service: this.service, account })) === true;
  }

  private async call(operation: KeychainOperation): Promise<unknown> {
    try {
      return await callKeychain(operation, this.timeoutMs);
    } catch (error) {
      const what = `The ${keychainName(this.platform)} keychain`;
      // session-bus.ts found no bus either: say so plainly instead of libdbus's X11 autolaunch text.
      const noBus =
        this.platform !== 'darwin' && this.platform !== 'win32' && !process.env.DBUS_SESSION_BUS_ADDRESS
          ? ' (no D-Bus session bus found: DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus; pass DBUS_SESSION_BUS_ADDRESS to the server in the MCP client configuration)'
          : '';
      const message =
        error instanceof KeychainCallError && error.reason === 'timeout'
          ? `${what} did not answer within ${this.timeoutMs} ms (${operation.op} "${operation.account}").`
          : `${what} is unavailable (${operation.op} "${operation.account}"): ${detail(error)}${noBus}`;
      throw new ArcGisMcpError('KEYCHAIN_UNAVAILABLE', message, {
        nextStep: KEYCHAIN_NEXT_STEP,
        cause: error,
      });
    }
  }
}

function detail(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
