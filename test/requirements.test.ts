import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  citedIds,
  coverage,
  parseRequirementIds,
  readSecurityDocIds,
  REQUIREMENT_IDS,
  SECURITY_DOC,
  TEST_DIR,
  testFiles,
} from './requirements.js';

/**
 * The requirements manifest (style.md: "a requirements manifest keyed by ID and a test that fails
 * when an ID is untested"). Failures list the IDs, so the message says what to write next.
 */

const known = new Set<string>(REQUIREMENT_IDS);
// This file talks about the citation syntax; it must not count as covering anything.
const files = testFiles().filter((f) => !f.endsWith('requirements.test.ts'));

describe('requirements manifest', () => {
  it('lists each ID once', () => {
    expect(REQUIREMENT_IDS.length).toBe(known.size);
  });

  it.skipIf(!existsSync(SECURITY_DOC))('lists every requirement ID that security.md defines', () => {
    const docIds = readSecurityDocIds() ?? [];
    expect(docIds.length).toBeGreaterThan(0);
    const missing = docIds.filter((id) => !known.has(id));
    const stale = REQUIREMENT_IDS.filter((id) => !docIds.includes(id));
    expect(
      { missingFromManifest: missing, notInSecurityDoc: stale },
      `test/requirements.ts is out of date with ${SECURITY_DOC}`,
    ).toEqual({ missingFromManifest: [], notInSecurityDoc: [] });
  });

  it('every requirement ID has at least one test citing it by name', () => {
    const covered = coverage(files);
    const untested = REQUIREMENT_IDS.filter((id) => !covered.has(id));
    expect(
      untested,
      `${untested.length} requirement(s) have no test named after them: ${untested.join(', ')}. ` +
        "Name a test that proves each one like it('<ID>: what it proves', ...).",
    ).toEqual([]);
  });

  it('tests cite only IDs that exist (no typos)', () => {
    const unknown: string[] = [];
    for (const [id, where] of coverage(files)) {
      if (!known.has(id)) unknown.push(`${id} (${where.map((f) => relative(TEST_DIR, f)).join(', ')})`);
    }
    expect(unknown, `unknown requirement IDs cited in test names: ${unknown.join('; ')}`).toEqual([]);
  });
});

describe('manifest helpers', () => {
  it('parses the IDs of security.md bullets', () => {
    const doc =
      '## Sign-in\n- **AUTH-PKCE-S256**: every authorize URL...\n- **NET-ALLOWLIST**: a token...\n  continued **not-an-id**\n';
    expect(parseRequirementIds(doc)).toEqual(['AUTH-PKCE-S256', 'NET-ALLOWLIST']);
  });

  it('finds citations in single, double and backtick quotes, and nothing else', () => {
    const source = [
      "it('AUTH-STATE: replay rejected', () => {});",
      'it("NET-REDIRECTS: cross-origin", () => {});',
      'it(`REL-BACKOFF: retried`, () => {});',
      '// NET-TIMEOUTS: mentioned in a comment',
      "const s = 'ARCGIS_TIMEOUT: not a requirement';",
    ].join('\n');
    expect([...citedIds(source)].sort()).toEqual(['AUTH-STATE', 'NET-REDIRECTS', 'REL-BACKOFF']);
  });
});
