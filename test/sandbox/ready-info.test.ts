import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { getJson, http, rest, withQuery } from './helpers.js';

describe('ready info and portal basics', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('has the product.md ready-line keys, on 127.0.0.1', () => {
    const { info } = sandbox;
    expect(info.portalUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portal$/);
    expect(info.clientId).not.toBe('');
    expect(info.clientSecret).not.toBe('');
    expect(info.users.map((u) => [u.username, u.role])).toEqual([
      ['alice', 'org_admin'],
      ['bob', 'org_user'],
      ['carol_saml', 'org_user'],
    ]);
    for (const user of info.users) expect(user.password.length).toBeGreaterThan(0);
    for (const key of ['public', 'private', 'large', 'noPagination', 'table'] as const) {
      expect(info.services[key]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+\/FeatureServer\/\d+$/);
    }
    expect(info.redirectUris).toEqual([
      'urn:ietf:wg:oauth:2.0:oob',
      'http://127.0.0.1/callback',
      'http://localhost/callback',
    ]);
    expect(info.servers).toBeUndefined();
    // The ready line is one line of JSON.
    expect(JSON.stringify(info)).not.toContain('\n');
  });

  it('answers the portal root with currentVersion, without enterpriseVersion on Online', async () => {
    const body = await getJson(rest(sandbox, ''));
    expect(body.currentVersion).toBe('2024.1');
    expect(body.enterpriseVersion).toBeUndefined();
  });

  it('serves /info with owningSystemUrl and the token service', async () => {
    const body = await getJson(rest(sandbox, '/info'));
    expect(body).toEqual({
      owningSystemUrl: sandbox.info.portalUrl,
      authInfo: { tokenServicesUrl: `${sandbox.info.restUrl}/generateToken`, isTokenBasedSecurity: true },
    });
  });

  it('tolerates a trailing slash, answers POST like GET, and pretty-prints f=pjson', async () => {
    const slash = await http(withQuery(`${rest(sandbox, '/info')}/`, { f: 'json' }));
    expect(slash.json().owningSystemUrl).toBe(sandbox.info.portalUrl);
    const post = await http(rest(sandbox, '/info'), { form: { f: 'json' } });
    expect(post.json()).toEqual(slash.json());
    const pretty = await http(withQuery(rest(sandbox, '/info'), { f: 'pjson' }));
    expect(pretty.text).toContain('\n  ');
    expect(JSON.parse(pretty.text)).toEqual(slash.json());
  });

  it('labels portal answers text/plain and service answers application/json (§1)', async () => {
    const portal = await http(withQuery(rest(sandbox, '/info'), { f: 'json' }));
    expect(portal.headers['content-type']).toBe('text/plain;charset=utf-8');
    const service = await http(withQuery(sandbox.info.services.public, { f: 'json' }));
    expect(service.headers['content-type']).toMatch(/^application\/json/);
  });

  it('serves the hosting server rest/info, federated with the portal', async () => {
    const body = await getJson(`${sandbox.info.hostingServerUrl}/rest/info`);
    expect(body.owningSystemUrl).toBe(sandbox.info.portalUrl);
    expect(body.authInfo.isTokenBasedSecurity).toBe(true);
    expect(body.authInfo.tokenServicesUrl).toBe(`${sandbox.info.restUrl}/generateToken`);
  });

  it('describes the service root and layers per §8', async () => {
    const root = await getJson(sandbox.info.services.publicService);
    expect(root.layers).toEqual([
      expect.objectContaining({ id: 0, name: 'Parks', geometryType: 'esriGeometryPoint' }),
    ]);
    const layer = await getJson(sandbox.info.services.public);
    expect(layer).toMatchObject({
      id: 0,
      type: 'Feature Layer',
      objectIdField: 'OBJECTID',
      maxRecordCount: 1000,
    });
    expect(layer.advancedQueryCapabilities.supportsPagination).toBe(true);
    const koop = await getJson(sandbox.info.services.noPagination);
    expect(koop.advancedQueryCapabilities.supportsPagination).toBe(false);
  });

  it('answers an unknown portal path with the item-missing envelope', async () => {
    const body = await getJson(rest(sandbox, '/content/items/nope'));
    expect(body.error.messageCode).toBe('CONT_0001');
  });
});

describe('startup', () => {
  it('starts with the 100k-feature layer in well under a second', async () => {
    const t0 = performance.now();
    const sandbox = await startSandbox();
    const elapsed = performance.now() - t0;
    await sandbox.close();
    expect(elapsed).toBeLessThan(1000);
  });

  it('binds the requested port', async () => {
    const probe = await startSandbox();
    const port = Number(new URL(probe.info.portalUrl).port);
    await probe.close();
    const sandbox = await startSandbox({ port });
    expect(new URL(sandbox.info.portalUrl).port).toBe(String(port));
    await sandbox.close();
  });
});
