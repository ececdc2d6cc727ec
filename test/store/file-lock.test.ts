import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/auth/lock/file-lock.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { withTempDir } from './helpers.js';

/** A pid that certainly belongs to no running process: a child that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

describe('withFileLock (REL-SINGLE-FLIGHT across processes)', () => {
  it('REL-SINGLE-FLIGHT: concurrent callers run one at a time, and every one runs', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      let inside = 0;
      let maxInside = 0;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          withFileLock(lock, async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await sleep(15);
            order.push(i);
            inside--;
          }),
        ),
      );
      expect(maxInside).toBe(1);
      expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('returns the value of fn, and releases the lock when fn throws', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      expect(await withFileLock(lock, () => Promise.resolve(42))).toBe(42);
      await expect(withFileLock(lock, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(existsSync(lock)).toBe(false);
      expect(await withFileLock(lock, () => Promise.resolve('again'), { timeoutMs: 200 })).toBe('again');
    });
  });

  it('the lock file holds the owner pid and time while held, and is created in a fresh directory', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'locks', 'session.lock');
      await withFileLock(lock, async () => {
        const owner = JSON.parse(await readFile(lock, 'utf8')) as {
          pid: number;
          host: string;
          createdAt: number;
        };
        expect(owner.pid).toBe(process.pid);
        expect(owner.host).toBe(hostname());
        expect(Math.abs(Date.now() - owner.createdAt)).toBeLessThan(5000);
      });
    });
  });

  it('gives up with a typed error after timeoutMs when the holder is alive', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      let release!: () => void;
      const held = withFileLock(lock, () => new Promise<void>((done) => (release = done)));
      await sleep(20);
      const started = Date.now();
      const error = await withFileLock(lock, () => Promise.resolve(), { timeoutMs: 150 }).catch(
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(error).toBeInstanceOf(ArcGisMcpError);
      expect((error as ArcGisMcpError).code).toBe('KEYCHAIN_UNAVAILABLE');
      release();
      await held;
    });
  });

  it('takes over a lock whose holder process is dead', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      const pid = await deadPid();
      await writeFile(lock, JSON.stringify({ pid, host: hostname(), nonce: 'dead', createdAt: Date.now() }));
      const started = Date.now();
      expect(await withFileLock(lock, () => Promise.resolve('mine'), { timeoutMs: 2000 })).toBe('mine');
      expect(Date.now() - started).toBeLessThan(1000);
      expect(existsSync(lock)).toBe(false);
    });
  });

  it('takes over a lock untouched for longer than staleMs, even if its pid looks alive', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      await writeFile(
        lock,
        JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'old', createdAt: 0 }),
      );
      const old = new Date(Date.now() - 120_000);
      await utimes(lock, old, old);
      expect(
        await withFileLock(lock, () => Promise.resolve('mine'), { timeoutMs: 2000, staleMs: 60_000 }),
      ).toBe('mine');
    });
  });

  it('a slow holder keeps its lock fresh (heartbeat), so it is not taken over while working', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      let inside = 0;
      let maxInside = 0;
      const work = async (): Promise<void> => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(400); // longer than staleMs
        inside--;
      };
      await Promise.all([
        withFileLock(lock, work, { staleMs: 150, timeoutMs: 3000 }),
        sleep(20).then(() => withFileLock(lock, work, { staleMs: 150, timeoutMs: 3000 })),
      ]);
      expect(maxInside).toBe(1);
    });
  });

  it('many waiters racing for one stale lock: exactly one wins at a time', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      await writeFile(
        lock,
        JSON.stringify({ pid: await deadPid(), host: hostname(), nonce: 'x', createdAt: 0 }),
      );
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 8 }, () =>
          withFileLock(
            lock,
            async () => {
              inside++;
              maxInside = Math.max(maxInside, inside);
              await sleep(5);
              inside--;
            },
            { timeoutMs: 5000 },
          ),
        ),
      );
      expect(maxInside).toBe(1);
      expect(await readdir(dir)).toEqual([]);
    });
  });
});

/**
 * The real thing: two node processes. Child processes cannot run TypeScript, so they import the
 * built module (`npm test` builds first; `npx tsc -p tsconfig.build.json` by hand).
 */
const builtLock = resolve('dist/auth/lock/file-lock.js');
const haveBuild = existsSync(builtLock);
if (!haveBuild) {
  console.warn(`[cross-process lock test skipped] ${builtLock} is missing; run "npm run build" first`);
}

describe.runIf(haveBuild)('withFileLock across two real processes', () => {
  it('REL-SINGLE-FLIGHT: two processes doing read → rotate → save never interleave', async () => {
    await withTempDir(async (dir) => {
      const lock = join(dir, 'session.lock');
      const counter = join(dir, 'counter.txt');
      const log = join(dir, 'log.txt');
      await writeFile(counter, '0');
      await writeFile(log, '');
      // Each round reads the counter, waits (a token exchange), then writes it back + 1: any
      // overlap between the processes loses an increment or shows an enter/enter in the log.
      const script = `
        import { readFile, writeFile, appendFile } from 'node:fs/promises';
        import { setTimeout as sleep } from 'node:timers/promises';
        const { withFileLock } = await import(${JSON.stringify(pathToFileURL(builtLock).href)});
        const [lock, counter, log, rounds] = process.argv.slice(1);
        for (let i = 0; i < Number(rounds); i++) {
          await withFileLock(lock, async () => {
            await appendFile(log, 'enter ' + process.pid + '\\n');
            const n = Number(await readFile(counter, 'utf8'));
            await sleep(3);
            await writeFile(counter, String(n + 1));
            await appendFile(log, 'leave ' + process.pid + '\\n');
          }, { timeoutMs: 20000 });
        }
      `;
      const rounds = 15;
      const runChild = (): Promise<number | null> =>
        new Promise((done, fail) => {
          const child = spawn(
            process.execPath,
            ['--input-type=module', '-e', script, lock, counter, log, String(rounds)],
            { stdio: ['ignore', 'ignore', 'inherit'] },
          );
          child.on('error', fail);
          child.on('exit', (code) => done(code));
        });
      expect(await Promise.all([runChild(), runChild()])).toEqual([0, 0]);
      expect(Number(await readFile(counter, 'utf8'))).toBe(2 * rounds);
      const lines = (await readFile(log, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(4 * rounds);
      const pids = new Set<string>();
      for (let i = 0; i < lines.length; i += 2) {
        const [enter, pidIn] = (lines[i] ?? '').split(' ');
        const [leave, pidOut] = (lines[i + 1] ?? '').split(' ');
        expect([enter, leave]).toEqual(['enter', 'leave']);
        expect(pidOut).toBe(pidIn);
        pids.add(pidIn ?? '');
      }
      expect(pids.size).toBe(2);
      expect(existsSync(lock)).toBe(false);
    });
  });
});
