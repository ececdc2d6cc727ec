import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { appToken, generateToken, getJson, http, OOB, postJson, rest, signIn } from './helpers.js';

describe('request log and admin endpoints', () => {
  let sandbox: RunningSandbox;
  let user: { access_token: string; refresh_token: string };
  beforeAll(async () => {
    sandbox = await startSandbox();
    user = await signIn(sandbox);
  });
  beforeEach(async () => {
    await http(`${sandbox.info.adminUrl}/requests/clear`, { method: 'POST' });
  });
  afterAll(() => sandbox.close());

  it('records where a token travelled and its kind, never its value', async () => {
    const app = await appToken(sandbox);
    await http(`${sandbox.info.adminUrl}/requests/clear`, { method: 'POST' });
    const server = await generateToken(sandbox, {
      token: user.access_token,
      serverUrl: sandbox.info.hostingServerUrl,
    });
    const url = `${sandbox.info.services.private}/query`;
    await getJson(
      url,
      {},
      { 'X-Esri-Authorization': `Bearer ${user.access_token}`, Referer: 'http://tests/' },
    );
    await getJson(url, {}, { Authorization: `Bearer ${app}` });
    await getJson(url, { token: server.token });
    await postJson(url, { token: 'bogus' });
    await getJson(url);

    const log = sandbox.requests.filter((r) => r.path.endsWith('/query'));
    expect(log.map((r) => [r.tokenIn, r.tokenKind])).toEqual([
      ['x-esri-authorization', 'user'],
      ['authorization', 'app'],
      ['query', 'server'],
      ['body', 'invalid'],
      ['none', 'none'],
    ]);
    expect(log[0]).toMatchObject({
      method: 'GET',
      origin: new URL(sandbox.info.portalUrl).origin,
      referer: 'http://tests/',
    });
    expect(log[2]?.queryKeys).toEqual(['f', 'token']);
    expect(log[3]?.bodyKeys).toEqual(['f', 'token']);
    const text = JSON.stringify(sandbox.requests);
    for (const secret of [user.access_token, app, server.token]) expect(text).not.toContain(secret);
    // The generateToken call is logged with its parameter names only.
    expect(sandbox.requests.find((r) => r.path.endsWith('/generateToken'))?.bodyKeys).toEqual([
      'f',
      'token',
      'serverUrl',
    ]);
  });

  it('serves the log over HTTP and clears it', async () => {
    await getJson(rest(sandbox, '/info'));
    const log = (await http(`${sandbox.info.adminUrl}/requests`)).json();
    expect(log).toHaveLength(1);
    expect(log[0].path).toBe('/portal/sharing/rest/info');
    // Admin calls themselves are not logged.
    await http(`${sandbox.info.adminUrl}/requests/clear`, { method: 'POST' });
    expect((await http(`${sandbox.info.adminUrl}/requests`)).json()).toEqual([]);
  });

  it('expire-access-tokens makes every access token 498 while refresh still works', async () => {
    const session = await signIn(sandbox);
    const res = await http(`${sandbox.info.adminUrl}/expire-access-tokens`, { method: 'POST' });
    expect(res.json().expired).toBeGreaterThan(0);
    expect(
      (await getJson(rest(sandbox, '/community/self'), { token: session.access_token })).error.code,
    ).toBe(498);
    const refreshed = await postJson(rest(sandbox, '/oauth2/token'), {
      client_id: sandbox.info.clientId,
      grant_type: 'refresh_token',
      refresh_token: session.refresh_token,
    });
    expect(
      (await getJson(rest(sandbox, '/community/self'), { token: refreshed.access_token })).username,
    ).toBe('alice');
  });

  it('revoke-all kills every refresh token and its access tokens', async () => {
    const session = await signIn(sandbox);
    await http(`${sandbox.info.adminUrl}/revoke-all`, { method: 'POST' });
    expect(
      (await getJson(rest(sandbox, '/community/self'), { token: session.access_token })).error.code,
    ).toBe(498);
    for (const grant of ['refresh_token', 'exchange_refresh_token']) {
      const body = await postJson(rest(sandbox, '/oauth2/token'), {
        client_id: sandbox.info.clientId,
        grant_type: grant,
        refresh_token: session.refresh_token,
        redirect_uri: OOB,
      });
      expect(body.error.error_description).toBe('Invalid refresh_token');
    }
  });

  it('nothing the ArcGIS API serves links to the admin endpoints', async () => {
    const bodies = await Promise.all([
      http(rest(sandbox, '?f=json')),
      http(`${rest(sandbox, '/info')}?f=json`),
      http(`${rest(sandbox, '/portals/self')}?f=json`),
      http(`${sandbox.info.hostingServerUrl}/rest/info?f=json`),
      http(`${sandbox.info.hostingServerUrl}/rest/services?f=json`),
      http(
        `${rest(sandbox, '/oauth2/authorize')}?client_id=${sandbox.info.clientId}&response_type=code&redirect_uri=${OOB}`,
      ),
    ]);
    for (const res of bodies) expect(res.text).not.toContain('__sandbox');
  });
});
