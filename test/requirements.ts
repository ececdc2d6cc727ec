import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The requirements manifest: every ID of security.md, each of which must be cited by at least one
 * test name (`it('NET-ALLOWLIST: a lookalike host gets no token', ...)`). `requirements.test.ts`
 * fails, listing the IDs, when one has no test or when security.md gains an ID this list lacks.
 */
export const REQUIREMENT_IDS = [
  // Sign-in
  'AUTH-PKCE-S256',
  'AUTH-STATE',
  'AUTH-LOOPBACK',
  'AUTH-NO-SECRET-IN-CHAT',
  'AUTH-PORTAL-FROM-CONFIG',
  'AUTH-TOKEN-ENDPOINT',
  // Where tokens go
  'NET-NO-TOKEN-IN-URL',
  'NET-ALLOWLIST',
  'NET-TWO-LEGGED',
  'NET-REDIRECTS',
  'NET-TIMEOUTS',
  'NET-PUBLIC-FIRST',
  // Secrets never leak
  'SEC-NO-SECRETS-IN-RESULTS',
  'SEC-REDACT',
  'SEC-STDOUT',
  'SEC-UNTRUSTED-DATA',
  // Storage
  'STORE-KEYCHAIN-FIRST',
  'STORE-PIN',
  'STORE-TIMEOUT',
  'STORE-EXPLICIT-FALLBACK',
  'STORE-ROTATION-SAFE',
  // Refresh and concurrency
  'REL-PROACTIVE',
  'REL-REACTIVE',
  'REL-SINGLE-FLIGHT',
  'REL-BACKOFF',
  'REL-BAD-INPUT',
] as const;

export type RequirementId = (typeof REQUIREMENT_IDS)[number];

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's test directory. */
export const TEST_DIR = here;

/** security.md lives in the shared docs next to the repository (override with ARCGIS_MCP_SECURITY_DOC). */
export const SECURITY_DOC =
  process.env.ARCGIS_MCP_SECURITY_DOC ?? join(here, '..', '..', 'shared', 'docs', 'security.md');

/** The IDs security.md defines: each requirement is a bullet starting with `**<ID>**:`. */
export function parseRequirementIds(markdown: string): string[] {
  return [...markdown.matchAll(/^\s*[-*]\s+\*\*([A-Z]+(?:-[A-Z0-9]+)+)\*\*\s*:/gm)].map(
    (m) => m[1] as string,
  );
}

export function readSecurityDocIds(path = SECURITY_DOC): string[] | null {
  return existsSync(path) ? parseRequirementIds(readFileSync(path, 'utf8')) : null;
}

/** Requirement-shaped IDs cited at the start of a quoted test name: `'ID:`, `"ID:` or `` `ID: ``. */
const CITATION = /['"`]((?:AUTH|NET|SEC|STORE|REL)(?:-[A-Z0-9]+)+):/g;

export function citedIds(source: string): Set<string> {
  return new Set([...source.matchAll(CITATION)].map((m) => m[1] as string));
}

/** Every `*.test.ts` under `dir`, recursively (node_modules excluded). */
export function testFiles(dir = TEST_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out.sort();
}

/** ID → the test files that cite it. */
export function coverage(files = testFiles()): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  for (const file of files) {
    for (const id of citedIds(readFileSync(file, 'utf8'))) {
      byId.set(id, [...(byId.get(id) ?? []), file]);
    }
  }
  return byId;
}
