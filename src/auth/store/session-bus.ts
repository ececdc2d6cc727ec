import { existsSync } from 'node:fs';

type Env = Record<string, string | undefined>;

export interface SessionBusDeps {
  platform?: NodeJS.Platform;
  uid?: number | undefined;
  socketExists?: (path: string) => boolean;
}

/**
 * Makes sure libdbus can find the user's session bus, and returns the address in use (or
 * undefined when there is none to be found).
 *
 * Why: MCP clients start servers with a stripped environment (the SDK's StdioClientTransport
 * passes only HOME, LOGNAME, PATH, SHELL, TERM, USER), so DBUS_SESSION_BUS_ADDRESS is often
 * missing even though the user's bus is right there. The libdbus statically linked into
 * @napi-rs/keyring has X11 autolaunch compiled out, so without the variable every keychain call
 * fails ("set your DBUS_SESSION_BUS_ADDRESS instead"). systemd-logind puts the bus at
 * $XDG_RUNTIME_DIR/bus, i.e. /run/user/<uid>/bus, so we look there before giving up
 * (environment.md, "The keychain"). The variable is set on `env` (process.env by default) because
 * libdbus reads it at connect time, and the keychain helper process inherits it.
 */
export function ensureSessionBusAddress(
  env: Env = process.env,
  deps: SessionBusDeps = {},
): string | undefined {
  const platform = deps.platform ?? process.platform;
  // Only Secret Service platforms talk D-Bus; macOS Keychain and Windows Credential Manager do not.
  if (platform === 'darwin' || platform === 'win32') return undefined;
  const current = env.DBUS_SESSION_BUS_ADDRESS;
  if (current) return current;
  const socketExists = deps.socketExists ?? existsSync;
  const uid = 'uid' in deps ? deps.uid : process.getuid?.();
  const candidates: string[] = [];
  if (env.XDG_RUNTIME_DIR) candidates.push(`${env.XDG_RUNTIME_DIR.replace(/\/+$/, '')}/bus`);
  if (uid !== undefined) candidates.push(`/run/user/${uid}/bus`);
  for (const path of candidates) {
    if (socketExists(path)) {
      const address = `unix:path=${path}`;
      env.DBUS_SESSION_BUS_ADDRESS = address;
      return address;
    }
  }
  return undefined;
}
