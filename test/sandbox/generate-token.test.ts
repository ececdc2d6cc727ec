import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { generateToken, getJson, http, password, rest, signIn, withQuery } from './helpers.js';

describe('generateToken', () => {
  let sandbox: RunningSandbox;
  let now = Date.UTC(2025, 0, 1);
  beforeAll(async () => {
    sandbox = await startSandbox({ clock: () => now });
  });
  afterAll(() => sandbox.close());

  const creds = (username: string): Record<string, string> => ({
    username,
    password: password(sandbox, username),
  });

  it('returns {token, expires (epoch ms), ssl} with a 60-minute default', async () => {
    const body = await generateToken(sandbox, { ...creds('bob'), client: 'requestip' });
    expect(Object.keys(body)).toEqual(['token', 'expires', 'ssl']);
    expect(body.expires).toBe(now + 60 * 60 * 1000);
    expect((await getJson(rest(sandbox, '/community/self'), { token: body.token })).username).toBe('bob');
  });

  it('honours expiration minutes', async () => {
    const body = await generateToken(sandbox, { ...creds('bob'), client: 'requestip', expiration: '20160' });
    expect(body.expires).toBe(now + 20160 * 60 * 1000);
  });

  it('answers bad credentials with the exact §4 body', async () => {
    const body = await generateToken(sandbox, { username: 'alice', password: 'wrong', client: 'requestip' });
    expect(body).toEqual({
      error: { code: 400, message: 'Unable to generate token.', details: ['Invalid username or password.'] },
    });
  });

  it('fails for the SAML user exactly like bad credentials, even with the IdP password', async () => {
    const body = await generateToken(sandbox, { ...creds('carol_saml'), client: 'requestip' });
    expect(body).toEqual({
      error: { code: 400, message: 'Unable to generate token.', details: ['Invalid username or password.'] },
    });
  });

  it('refuses GET (credentials never in a URL)', async () => {
    const res = await http(withQuery(rest(sandbox, '/generateToken'), { ...creds('alice'), f: 'json' }));
    expect(res.json().error.code).toBe(400);
    expect(res.json().token).toBeUndefined();
  });

  it('binds a client=referer token to that Referer header', async () => {
    const referer = '@esri/arcgis-rest-js';
    const { token } = await generateToken(sandbox, { ...creds('alice'), client: 'referer', referer });
    const self = rest(sandbox, '/community/self');
    expect((await getJson(self, { token }, { Referer: referer })).username).toBe('alice');
    expect((await getJson(self, { token })).error.code).toBe(498);
    expect((await getJson(self, { token }, { Referer: 'https://elsewhere.example/' })).error.code).toBe(498);
    expect((await getJson(sandbox.info.services.private, { token }, { Referer: referer })).name).toBe(
      'Shelters',
    );
    expect((await getJson(sandbox.info.services.private, { token })).error.code).toBe(498);
  });

  it('exchanges a portal token for a server token with serverUrl (the hosting server)', async () => {
    const { access_token } = await signIn(sandbox);
    const body = await generateToken(sandbox, {
      token: access_token,
      serverUrl: sandbox.info.hostingServerUrl,
    });
    expect(body.token).toBeTypeOf('string');
    expect(body.expires).toBeGreaterThan(now);
    // Valid at the server it was minted for, not at the portal.
    expect((await getJson(sandbox.info.services.private, { token: body.token })).name).toBe('Shelters');
    expect((await getJson(rest(sandbox, '/community/self'), { token: body.token })).error.code).toBe(498);
  });

  it('refuses serverUrl for a server that is not federated with the portal', async () => {
    const { access_token } = await signIn(sandbox);
    const body = await generateToken(sandbox, {
      token: access_token,
      serverUrl: 'http://127.0.0.1:1/arcgis',
    });
    expect(body.error.code).toBe(400);
  });

  it('refuses to turn an invalid portal token into a server token', async () => {
    const body = await generateToken(sandbox, { token: 'bogus', serverUrl: sandbox.info.hostingServerUrl });
    expect(body.error.code).toBe(498);
  });

  it('generateToken tokens expire (fake clock)', async () => {
    const { token } = await generateToken(sandbox, {
      ...creds('alice'),
      client: 'requestip',
      expiration: '1',
    });
    now += 61 * 1000;
    expect((await getJson(rest(sandbox, '/community/self'), { token })).error.code).toBe(498);
  });
});
