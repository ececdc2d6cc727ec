import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Unique per run, so that parallel runs and leftovers never collide in a shared keyring. */
export function uniqueAccount(label: string): string {
  return `test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'arcgis-mcp-store-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; resolves with its exit code and output (rejects only if it cannot start). */
export function run(
  cmd: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { env: options.env ?? process.env, timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return reject(error);
        resolve({ code: child.exitCode, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
