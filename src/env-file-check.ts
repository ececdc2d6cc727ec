import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import type { Logger } from './log.js';

/**
 * An `.env` with ARCGIS_PASSWORD or ARCGIS_CLIENT_SECRET must never be committed: warn on stderr
 * when git would track it. Quiet when git is missing or the folder is not a repository.
 */
export function warnIfEnvFileNotIgnored(envFile: string | undefined, log: Logger): Promise<boolean> {
  if (!envFile) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile('git', ['check-ignore', '-q', envFile], { cwd: dirname(envFile), timeout: 3000 }, (error) => {
      // Exit 0: ignored. Exit 1: not ignored. 128 or spawn failure: no repository / no git.
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 1) {
        log.warn(
          `${envFile} is not ignored by git: add ".env" to .gitignore so that credentials are never committed.`,
        );
        resolve(true);
      } else resolve(false);
    });
  });
}
