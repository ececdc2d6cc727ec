import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { appToken, generateToken, getJson, http, password, postJson, rest, signIn } from './helpers.js';

describe('Enterprise mode', () => {
  let sandbox: RunningSandbox;
  let federatedRoot: string;
  let unfederatedRoot: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ enterprise: true });
    federatedRoot = sandbox.info.servers?.federated ?? '';
    unfederatedRoot = sandbox.info.servers?.unfederated ?? '';
  });
  afterAll(() => sandbox.close());

  it('reports enterpriseVersion and prints the servers on other origins', async () => {
    expect(await getJson(rest(sandbox, ''))).toEqual({
      currentVersion: '2024.1',
      enterpriseVersion: '11.3.0',
    });
    const origins = new Set(
      [sandbox.info.portalUrl, federatedRoot, unfederatedRoot].map((u) => new URL(u).origin),
    );
    expect(origins.size).toBe(3);
    expect(federatedRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/server$/);
    expect(unfederatedRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/arcgis$/);
    expect((await getJson(rest(sandbox, '/portals/self'))).isPortal).toBe(true);
  });

  it('the federated server names the portal as its owner (§11 discovery)', async () => {
    const info = await postJson(`${federatedRoot}/rest/info`, {});
    expect(info.owningSystemUrl).toBe(sandbox.info.portalUrl);
    const portalInfo = await postJson(`${info.owningSystemUrl}/sharing/rest/info`, {});
    expect(portalInfo.authInfo.tokenServicesUrl).toBe(`${sandbox.info.restUrl}/generateToken`);
  });

  it('the federated layer takes a server token minted for its root, not the portal token', async () => {
    const url = `${sandbox.info.services.federated}/query`;
    expect((await getJson(url)).error.code).toBe(499);
    const { access_token } = await signIn(sandbox);
    expect(await getJson(url, { token: access_token })).toEqual({
      error: { code: 498, message: 'Invalid Token', details: [] },
    });

    const server = await generateToken(sandbox, {
      token: access_token,
      serverUrl: federatedRoot,
      expiration: '20160',
    });
    expect(server).toEqual({ token: expect.any(String), expires: expect.any(Number), ssl: true });
    expect((await getJson(url, { token: server.token, returnCountOnly: 'true' })).count).toBe(400);
    // A server token is valid at its server only.
    expect(
      (await getJson(`${sandbox.info.services.private}/query`, { token: server.token })).error.code,
    ).toBe(498);
    expect(
      (await getJson(`${sandbox.info.services.unfederatedPrivate}/query`, { token: server.token })).error
        .code,
    ).toBe(498);
  });

  it('accepts the raw portal token on the federated server only behind the [U] switch', async () => {
    const { access_token } = await signIn(sandbox);
    const url = `${sandbox.info.services.federated}/query`;
    sandbox.quirks.federatedAcceptsPortalToken = true;
    try {
      expect((await getJson(url, { token: access_token, returnCountOnly: 'true' })).count).toBe(400);
    } finally {
      sandbox.quirks.federatedAcceptsPortalToken = false;
    }
    expect((await getJson(url, { token: access_token })).error.code).toBe(498);
  });

  it('server tokens die with the refresh token family they came from', async () => {
    const session = await signIn(sandbox);
    const server = await generateToken(sandbox, { token: session.access_token, serverUrl: federatedRoot });
    await postJson(rest(sandbox, '/oauth2/revokeToken'), {
      client_id: sandbox.info.clientId,
      auth_token: session.refresh_token,
    });
    expect(
      (await getJson(`${sandbox.info.services.federated}/query`, { token: server.token })).error.code,
    ).toBe(498);
  });

  it('an app token cannot become a server token', async () => {
    const body = await generateToken(sandbox, { token: await appToken(sandbox), serverUrl: federatedRoot });
    expect(body.token).toBeUndefined();
    expect(body.error.code).toBe(400);
  });

  it('the unfederated server has its own token service and no owningSystemUrl', async () => {
    const info = await getJson(`${unfederatedRoot}/rest/info`);
    expect(info.owningSystemUrl).toBeUndefined();
    expect(info.authInfo.tokenServicesUrl).toBe(`${unfederatedRoot}/tokens/generateToken`);

    expect(
      (await getJson(`${sandbox.info.services.unfederated}/query`, { returnCountOnly: 'true' })).count,
    ).toBe(50);
    const secured = `${sandbox.info.services.unfederatedPrivate}/query`;
    expect((await getJson(secured)).error.code).toBe(499);
    const { access_token } = await signIn(sandbox);
    expect((await getJson(secured, { token: access_token })).error.code).toBe(498);
    const portalGenerated = await generateToken(sandbox, {
      username: 'alice',
      password: password(sandbox, 'alice'),
      client: 'requestip',
    });
    expect((await getJson(secured, { token: portalGenerated.token })).error.code).toBe(498);
    // And the portal will not mint a token for it.
    expect(
      (await generateToken(sandbox, { token: access_token, serverUrl: unfederatedRoot })).error.code,
    ).toBe(400);

    const own = await postJson(info.authInfo.tokenServicesUrl, {
      username: 'bob',
      password: password(sandbox, 'bob'),
      client: 'requestip',
    });
    expect(own.token).toBeTypeOf('string');
    expect((await getJson(secured, { token: own.token, returnCountOnly: 'true' })).count).toBe(300);
    // Its tokens mean nothing at the portal.
    expect((await getJson(rest(sandbox, '/community/self'), { token: own.token })).error.code).toBe(498);
    const bad = await postJson(info.authInfo.tokenServicesUrl, {
      username: 'bob',
      password: 'nope',
      client: 'requestip',
    });
    expect(bad.error.message).toBe('Unable to generate token.');
    const saml = await postJson(info.authInfo.tokenServicesUrl, {
      username: 'carol_saml',
      password: password(sandbox, 'carol_saml'),
    });
    expect(saml.token).toBeUndefined();
  });

  it('the admin endpoints live on the portal origin only', async () => {
    const res = await http(`${federatedRoot.replace('/server', '')}/__sandbox/requests`);
    expect(res.status).toBe(404);
  });
});
