import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { appToken, getJson, rest, signIn } from './helpers.js';

describe('community/self and portals/self', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('community/self returns the user for a user token', async () => {
    const { access_token } = await signIn(sandbox, 'bob');
    const body = await getJson(rest(sandbox, '/community/self'), { token: access_token });
    expect(body).toMatchObject({
      username: 'bob',
      role: 'org_user',
      orgId: sandbox.info.orgId,
      mfaEnabled: false,
    });
    expect(body.privileges).toBeInstanceOf(Array);
  });

  it('reports the SAML user with provider "enterprise"', async () => {
    const { access_token } = await signIn(sandbox, 'carol_saml');
    const body = await getJson(rest(sandbox, '/community/self'), { token: access_token });
    expect(body).toMatchObject({ username: 'carol_saml', provider: 'enterprise' });
  });

  it('community/self refuses an app token and no token with 403 [U]', async () => {
    const token = await appToken(sandbox);
    expect((await getJson(rest(sandbox, '/community/self'), { token })).error.code).toBe(403);
    expect((await getJson(rest(sandbox, '/community/self'))).error.code).toBe(403);
    expect((await getJson(rest(sandbox, '/community/self'), { token: 'bogus.' })).error.code).toBe(498);
  });

  it('portals/self carries user{} for a user token', async () => {
    const { access_token } = await signIn(sandbox);
    const body = await getJson(
      rest(sandbox, '/portals/self'),
      {},
      { 'X-Esri-Authorization': `Bearer ${access_token}` },
    );
    expect(body).toMatchObject({ id: sandbox.info.orgId, isPortal: false, supportsOAuth: true });
    expect(body.user.username).toBe('alice');
    expect(body.appInfo).toBeUndefined();
  });

  it('portals/self carries appInfo{} for an app token', async () => {
    const token = await appToken(sandbox);
    const body = await getJson(rest(sandbox, '/portals/self'), {}, { Authorization: `Bearer ${token}` });
    expect(body.appInfo).toMatchObject({ appId: sandbox.info.clientId, orgId: sandbox.info.orgId });
    expect(body.user).toBeUndefined();
  });

  it('portals/self is the bare org anonymously', async () => {
    const body = await getJson(rest(sandbox, '/portals/self'));
    expect(body.id).toBe(sandbox.info.orgId);
    expect(body.user).toBeUndefined();
    expect(body.appInfo).toBeUndefined();
  });
});
