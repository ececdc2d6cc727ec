import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { getJson, http, OOB, postJson, rest, signInForCode } from './helpers.js';

/** Behaviours marked [U] in arcgis-protocol.md are switchable; each reading is exercised here. */
describe('[U] quirk switches', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('htmlWithoutF: a resource asked without f answers HTML (§1); with f=json, JSON', async () => {
    expect((await http(`${sandbox.info.services.public}`)).json().name).toBe('Parks');
    sandbox.quirks.htmlWithoutF = true;
    try {
      const bare = await http(sandbox.info.services.public);
      expect(bare.headers['content-type']).toMatch(/^text\/html/);
      expect((await getJson(sandbox.info.services.public)).name).toBe('Parks');
    } finally {
      sandbox.quirks.htmlWithoutF = false;
    }
  });

  it('revokeOnCodeReuse off: a replayed code is still refused but the first tokens live', async () => {
    const set = await http(`${sandbox.info.adminUrl}/quirks`, {
      method: 'POST',
      body: JSON.stringify({ revokeOnCodeReuse: false }),
      headers: { 'content-type': 'application/json' },
    });
    expect(set.json().revokeOnCodeReuse).toBe(false);
    try {
      const code = await signInForCode(sandbox);
      const form = {
        client_id: sandbox.info.clientId,
        grant_type: 'authorization_code',
        code,
        redirect_uri: OOB,
      };
      const first = await postJson(rest(sandbox, '/oauth2/token'), form);
      expect((await postJson(rest(sandbox, '/oauth2/token'), form)).error.error).toBe('invalid_grant');
      expect((await getJson(rest(sandbox, '/community/self'), { token: first.access_token })).username).toBe(
        'alice',
      );
    } finally {
      sandbox.quirks.revokeOnCodeReuse = true;
    }
  });

  it('httpErrorStatuses can be switched at run time', async () => {
    sandbox.quirks.httpErrorStatuses = true;
    try {
      expect((await http(`${sandbox.info.services.private}/query?f=json`)).status).toBe(499);
      expect((await http(`${rest(sandbox, '/community/self')}?f=json&token=bad`)).status).toBe(498);
    } finally {
      sandbox.quirks.httpErrorStatuses = false;
    }
    expect((await http(`${sandbox.info.services.private}/query?f=json`)).status).toBe(200);
  });
});
