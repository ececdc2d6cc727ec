import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ArcGisMcpError } from '../../errors.js';
import { withFileLock } from '../lock/file-lock.js';
import type { SecretStore } from './secret-store.js';

export const CREDENTIALS_FILE_NAME = 'credentials.json';

export interface FileStoreOptions {
  /** The credentials file; `<configDir>/credentials.json` by default (see create-secret-store.ts). */
  path: string;
  platform?: NodeJS.Platform;
}

interface CredentialsFile {
  version: 1;
  entries: Record<string, string>;
}

/**
 * STORE-EXPLICIT-FALLBACK: a plaintext JSON file, used only when the user sets
 * ARCGIS_TOKEN_STORE=file. Mode 0600 in a 0700 directory; every write is atomic (temp file in
 * the same directory, fsync, rename, fsync of the directory), so a crash leaves the old file or the
 * new one, never half of one, and `set` resolves only once the value is durable
 * (STORE-ROTATION-SAFE).
 *
 * A file readable by group or others is refused, not repaired: like ssh with a private key, a
 * widened mode means the token may already have been read, and quietly narrowing it would hide
 * that. The error says how to fix it (chmod 600, or sign out and in again for a new token).
 *
 * Read-modify-write runs under a file lock, so two server processes updating different accounts
 * do not lose each other's entries.
 */
export class FileStore implements SecretStore {
  readonly kind = 'file' as const;
  readonly path: string;
  private readonly platform: NodeJS.Platform;
  /** In-process queue: writes from one process apply in order without polling the lock. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileStoreOptions) {
    this.path = options.path;
    this.platform = options.platform ?? process.platform;
  }

  describe(): string {
    return `plaintext file (opted in): ${this.path}`;
  }

  async get(account: string): Promise<string | null> {
    const file = await this.read();
    return Object.hasOwn(file.entries, account) ? (file.entries[account] ?? null) : null;
  }

  set(account: string, value: string): Promise<void> {
    return this.update((entries) => {
      entries[account] = value;
      return undefined;
    });
  }

  delete(account: string): Promise<boolean> {
    return this.update((entries) => {
      if (!Object.hasOwn(entries, account)) return false;
      delete entries[account];
      return true;
    }).then((deleted) => deleted === true);
  }

  private update<R>(change: (entries: Record<string, string>) => R): Promise<R> {
    const run = async (): Promise<R> => {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      return withFileLock(`${this.path}.lock`, async () => {
        const file = await this.read();
        const result = change(file.entries);
        // Sign-out deletes every copy (STORE-EXPLICIT-FALLBACK): no empty file left behind.
        if (Object.keys(file.entries).length === 0) await unlink(this.path).catch(ignoreMissing);
        else await this.writeAtomically(file);
        return result;
      });
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next.catch((error: unknown) => {
      throw this.failure(error, 'write');
    });
  }

  private async read(): Promise<CredentialsFile> {
    let raw: string;
    try {
      if (this.platform !== 'win32') {
        const info = await stat(this.path);
        if ((info.mode & 0o077) !== 0) {
          throw new ArcGisMcpError(
            'KEYCHAIN_UNAVAILABLE',
            `The credentials file ${this.path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); refusing to use it.`,
            {
              nextStep: `Run "chmod 600 ${this.path}". If others may have read it, sign out and sign in again to get a new refresh token.`,
            },
          );
        }
        const uid = process.getuid?.();
        if (uid !== undefined && info.uid !== uid) {
          throw new ArcGisMcpError(
            'KEYCHAIN_UNAVAILABLE',
            `The credentials file ${this.path} belongs to another user (uid ${info.uid}); refusing to use it.`,
            { nextStep: 'Use your own ARCGIS_CONFIG_DIR, or remove the file and sign in again.' },
          );
        }
      }
      raw = await readFile(this.path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { version: 1, entries: {} };
      throw this.failure(error, 'read');
    }
    const parsed = parse(raw);
    if (!parsed) {
      throw new ArcGisMcpError('KEYCHAIN_UNAVAILABLE', `The credentials file ${this.path} is not valid.`, {
        nextStep: `Delete ${this.path} and sign in again.`,
      });
    }
    return parsed;
  }

  private async writeAtomically(file: CredentialsFile): Promise<void> {
    const dir = dirname(this.path);
    // Same directory as the target, so rename(2) is atomic (same filesystem).
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dir, this.platform);
  }

  private failure(error: unknown, what: 'read' | 'write'): ArcGisMcpError {
    if (error instanceof ArcGisMcpError) return error;
    return new ArcGisMcpError(
      'KEYCHAIN_UNAVAILABLE',
      `Cannot ${what} the credentials file ${this.path}: ${errnoCode(error) ?? (error instanceof Error ? error.message : String(error))}.`,
      {
        nextStep: `Check that ${dirname(this.path)} is writable by you, or set ARCGIS_CONFIG_DIR.`,
        cause: error,
      },
    );
  }
}

/** The rename is durable only once the directory entry is: fsync the directory (POSIX only). */
async function syncDirectory(dir: string, platform: NodeJS.Platform): Promise<void> {
  if (platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function parse(raw: string): CredentialsFile | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const entries = (value as { entries?: unknown }).entries;
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return undefined;
    const clean: Record<string, string> = {};
    for (const [account, secret] of Object.entries(entries)) {
      if (typeof secret === 'string') clean[account] = secret;
    }
    return { version: 1, entries: clean };
  } catch {
    return undefined;
  }
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function ignoreMissing(error: unknown): void {
  if (errnoCode(error) !== 'ENOENT') throw error;
}
