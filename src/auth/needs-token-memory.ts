import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * NET-PUBLIC-FIRST memory: which services answered 499/403 anonymously and so need a user token.
 * It is not a secret (security.md: "it may persist with the profile"), so it is kept in
 * `services.json` in the config dir: after a restart a private service is not probed
 * anonymously again (one round trip saved per service per restart, measured by `npm run bench`).
 * Only "needs a token" persists; "public" is re-learned, so a service that turns private is found.
 */
export interface NeedsTokenMemory {
  get(serviceKey: string): boolean | undefined;
  set(serviceKey: string, needsToken: boolean): void;
}

export class InMemoryNeedsToken implements NeedsTokenMemory {
  protected readonly map = new Map<string, boolean>();
  get(serviceKey: string): boolean | undefined {
    return this.map.get(serviceKey);
  }
  set(serviceKey: string, needsToken: boolean): void {
    this.map.set(serviceKey, needsToken);
  }
}

const MAX_REMEMBERED = 500;

export class PersistentNeedsToken extends InMemoryNeedsToken {
  private readonly file: string;

  constructor(configDir: string) {
    super();
    this.file = join(configDir, 'services.json');
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { needsToken?: unknown };
      if (Array.isArray(parsed.needsToken)) {
        for (const key of parsed.needsToken) if (typeof key === 'string') this.map.set(key, true);
      }
    } catch {
      // No file yet, or an unreadable one: start empty (it is only an optimisation).
    }
  }

  override set(serviceKey: string, needsToken: boolean): void {
    const before = this.map.get(serviceKey);
    super.set(serviceKey, needsToken);
    if (before === needsToken || (before === undefined && !needsToken)) return;
    this.save();
  }

  private save(): void {
    const keys = [...this.map]
      .filter(([, v]) => v)
      .map(([k]) => k)
      .slice(-MAX_REMEMBERED);
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ needsToken: keys }, null, 2), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // Read-only config dir: keep the memory in this process only.
    }
  }
}
