import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PersistentNeedsToken } from '../../src/auth/needs-token-memory.js';

describe('NET-PUBLIC-FIRST memory', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'needs-token-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('NET-PUBLIC-FIRST: a service that needed a token is remembered across restarts; a public one is re-learned', () => {
    const d = dir();
    const first = new PersistentNeedsToken(d);
    first.set('https://s/private/FeatureServer', true);
    first.set('https://s/public/FeatureServer', false);
    const second = new PersistentNeedsToken(d);
    expect(second.get('https://s/private/FeatureServer')).toBe(true);
    expect(second.get('https://s/public/FeatureServer')).toBeUndefined();
    expect((statSync(join(d, 'services.json')).mode & 0o777).toString(8)).toBe('600');
  });

  it('forgets a service that became public', () => {
    const d = dir();
    const m = new PersistentNeedsToken(d);
    m.set('k', true);
    m.set('k', false);
    expect(new PersistentNeedsToken(d).get('k')).toBeUndefined();
    expect(readFileSync(join(d, 'services.json'), 'utf8')).not.toContain('"k"');
  });

  it('starts empty on a corrupt file', () => {
    const d = dir();
    new PersistentNeedsToken(d).set('k', true);
    writeFileSync(join(d, 'services.json'), '{oops');
    expect(new PersistentNeedsToken(d).get('k')).toBeUndefined();
  });
});
