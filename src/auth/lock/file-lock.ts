import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArcGisMcpError } from '../../errors.js';

export interface FileLockOptions {
  /** How long to wait for the lock before giving up. */
  timeoutMs?: number;
  /** A lock whose file has not been touched for this long is abandoned and may be taken over. */
  staleMs?: number;
}

/** Covers a refresh-token exchange (one HTTP request with its own timeout) with room to spare. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
export const DEFAULT_LOCK_STALE_MS = 60_000;

interface LockOwner {
  pid: number;
  host: string;
  /** Unique per acquisition: release and takeover only ever remove the lock they judged. */
  nonce: string;
  createdAt: number;
}

/**
 * REL-SINGLE-FLIGHT across processes: runs `fn` while holding an exclusive lock file, so that two
 * server processes sharing one keychain entry never both "read refresh token → rotate → save"
 * (ArcGIS kills the old refresh token on rotation: the loser would save a dead one).
 *
 * The lock is an exclusive create (`open(path, 'wx')`) of a file holding the owner's pid, host
 * and a nonce. Waiters poll with a small, jittered, growing backoff. A lock is stale when its
 * holder (on this host) is dead, or when its file has not been touched for `staleMs`; the holder
 * touches it every `staleMs / 3`, so a slow `fn` is not mistaken for a crashed one. The lock is
 * always released in `finally`.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const staleMs = opts.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const owner = await acquire(lockPath, timeoutMs, staleMs);
  const heartbeat = setInterval(
    () => {
      const now = new Date();
      utimes(lockPath, now, now).catch(() => undefined);
    },
    Math.max(50, Math.floor(staleMs / 3)),
  );
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await release(lockPath, owner);
  }
}

async function acquire(lockPath: string, timeoutMs: number, staleMs: number): Promise<LockOwner> {
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    nonce: randomBytes(12).toString('hex'),
    createdAt: Date.now(),
  };
  const deadline = Date.now() + timeoutMs;
  let delayMs = 5;
  for (;;) {
    if (await tryCreate(lockPath, owner)) return owner;
    const holder = await inspect(lockPath);
    if (holder && isStale(holder, staleMs)) {
      await takeOver(lockPath, holder, staleMs);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new ArcGisMcpError(
        'KEYCHAIN_UNAVAILABLE',
        `Another arcgis-mcp process held the credential lock ${lockPath} for more than ${timeoutMs} ms.`,
        {
          nextStep:
            'Try again in a moment. If no other arcgis-mcp process is running, delete the lock file and try again.',
        },
      );
    }
    const jitter = Math.random() * delayMs * 0.5;
    await sleep(Math.min(delayMs + jitter, Math.max(1, deadline - Date.now())));
    delayMs = Math.min(delayMs * 2, 200);
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

interface Holder {
  owner: LockOwner | undefined;
  /** The file's content, to recognise the very same lock later. */
  raw: string;
  mtimeMs: number;
}

async function inspect(lockPath: string): Promise<Holder | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { owner: parseOwner(raw), raw, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined; // released meanwhile: just retry
    throw error;
  }
}

function isStale(holder: Holder, staleMs: number): boolean {
  if (Date.now() - holder.mtimeMs > staleMs) return true;
  // An unparsable file is a holder between create and write: only age can make it stale.
  const owner = holder.owner;
  if (!owner || owner.host !== hostname()) return false;
  return !isAlive(owner.pid);
}

/**
 * Removes a stale lock without ever removing a live one. A plain "unlink then create" races: two
 * waiters judge the same stale lock, A replaces it, then B unlinks A's fresh lock. So removal
 * happens under a second, short-lived lock (`<path>.takeover`), after re-reading the lock and
 * checking it is still the very file that was judged stale.
 */
async function takeOver(lockPath: string, judged: Holder, staleMs: number): Promise<void> {
  const guardPath = `${lockPath}.takeover`;
  const guard: LockOwner = {
    pid: process.pid,
    host: hostname(),
    nonce: randomBytes(12).toString('hex'),
    createdAt: Date.now(),
  };
  if (!(await tryCreate(guardPath, guard))) {
    // Someone else is taking over. Their guard lives milliseconds; one left by a crash is removed.
    const other = await inspect(guardPath);
    if (other && isStale(other, Math.min(staleMs, 5_000))) await unlinkIfSame(guardPath, other.raw);
    await sleep(5);
    return;
  }
  try {
    const current = await inspect(lockPath);
    if (current && current.raw === judged.raw && isStale(current, staleMs)) {
      await unlink(lockPath).catch(ignoreMissing);
    }
  } finally {
    await unlink(guardPath).catch(ignoreMissing);
  }
}

async function release(lockPath: string, owner: LockOwner): Promise<void> {
  // Only our own lock: if it was taken over (we looked dead or stale), the file is someone else's.
  await unlinkIfSame(lockPath, JSON.stringify(owner));
}

async function unlinkIfSame(path: string, raw: string): Promise<void> {
  try {
    if ((await readFile(path, 'utf8')) === raw) await unlink(path);
  } catch (error) {
    ignoreMissing(error);
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as LockOwner).pid === 'number' &&
      typeof (value as LockOwner).host === 'string'
    ) {
      return value as LockOwner;
    }
  } catch {
    // fall through: not (yet) a complete lock file
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errnoCode(error) === 'EPERM';
  }
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function ignoreMissing(error: unknown): void {
  if (errnoCode(error) !== 'ENOENT') throw error;
}
