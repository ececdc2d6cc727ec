import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { appToken, getJson, http, postJson, signIn, withQuery } from './helpers.js';

const TOKEN_REQUIRED = {
  error: { code: 499, message: 'Token Required', messageCode: 'GWM_0003', details: ['Token Required'] },
};
const FORBIDDEN = {
  error: {
    code: 403,
    messageCode: 'GWM_0003',
    message: 'You do not have permissions to access this resource or perform this operation.',
    details: [],
  },
};
const INVALID_TOKEN = { error: { code: 498, message: 'Invalid token.', details: [] } };

describe('who may read which layer', () => {
  let sandbox: RunningSandbox;
  let user: string;
  let app: string;
  beforeAll(async () => {
    sandbox = await startSandbox();
    user = (await signIn(sandbox)).access_token;
    app = await appToken(sandbox);
  });
  afterAll(() => sandbox.close());

  const query = (url: string): string => `${url}/query`;

  it('private layer without a token: 499 Token Required (HTTP 200)', async () => {
    const res = await http(withQuery(query(sandbox.info.services.private), { f: 'json', where: '1=1' }));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual(TOKEN_REQUIRED);
    expect(await getJson(sandbox.info.services.privateService)).toEqual(TOKEN_REQUIRED);
  });

  it('private layer with an app token: 403 (§6)', async () => {
    expect(await getJson(query(sandbox.info.services.private), { token: app })).toEqual(FORBIDDEN);
    expect(await getJson(query(sandbox.info.services.large), { token: app })).toEqual(FORBIDDEN);
  });

  it('private layer with an invalid token: 498', async () => {
    expect(await getJson(query(sandbox.info.services.private), { token: 'not-a-token.' })).toEqual(
      INVALID_TOKEN,
    );
  });

  it('private layer with a user token: data, via every transport (§10.7)', async () => {
    const viaQuery = await getJson(query(sandbox.info.services.private), {
      token: user,
      returnCountOnly: 'true',
    });
    const viaBody = await postJson(query(sandbox.info.services.private), {
      token: user,
      returnCountOnly: 'true',
    });
    const viaEsri = await getJson(
      query(sandbox.info.services.private),
      { returnCountOnly: 'true' },
      { 'X-Esri-Authorization': `Bearer ${user}` },
    );
    const viaAuth = await getJson(
      query(sandbox.info.services.private),
      { returnCountOnly: 'true' },
      { Authorization: `Bearer ${user}` },
    );
    expect(viaQuery.count).toBeGreaterThan(100);
    expect([viaBody, viaEsri, viaAuth]).toEqual([viaQuery, viaQuery, viaQuery]);
  });

  it('public layer: data without a token, 498 with a bad one (§2 last line), fine with an app token', async () => {
    const anonymous = await getJson(query(sandbox.info.services.public), { returnCountOnly: 'true' });
    expect(anonymous).toEqual({ count: 50 });
    expect(await getJson(query(sandbox.info.services.public), { token: 'expired-key' })).toEqual(
      INVALID_TOKEN,
    );
    expect(
      await getJson(query(sandbox.info.services.public), { token: app, returnCountOnly: 'true' }),
    ).toEqual({ count: 50 });
  });

  it('an expired user token is 498 on the private layer', async () => {
    const { access_token } = await signIn(sandbox);
    sandbox.expireAccessTokens();
    expect(await getJson(query(sandbox.info.services.private), { token: access_token })).toEqual(
      INVALID_TOKEN,
    );
    user = (await signIn(sandbox)).access_token;
  });

  it('the table needs a user too and has no geometry', async () => {
    expect(await getJson(query(sandbox.info.services.table))).toEqual(TOKEN_REQUIRED);
    const body = await getJson(query(sandbox.info.services.table), {
      token: user,
      outFields: '*',
      resultRecordCount: '2',
    });
    expect(body.features).toHaveLength(2);
    expect(body.features[0].geometry).toBeUndefined();
    expect(body.geometryType).toBeUndefined();
  });

  it('an unknown service answers the item-missing envelope', async () => {
    const url = sandbox.info.services.public.replace('Parks', 'Nope');
    expect((await getJson(url)).error).toMatchObject({ code: 400, messageCode: 'CONT_0001' });
  });
});

describe('httpErrorStatuses', () => {
  it('sends the error code as the HTTP status, same body', async () => {
    const sandbox = await startSandbox({ httpErrorStatuses: true });
    try {
      const res = await http(withQuery(`${sandbox.info.services.private}/query`, { f: 'json' }));
      expect(res.status).toBe(499);
      expect(res.json()).toEqual(TOKEN_REQUIRED);
      const ok = await http(
        withQuery(`${sandbox.info.services.public}/query`, { f: 'json', returnCountOnly: 'true' }),
      );
      expect(ok.status).toBe(200);
    } finally {
      await sandbox.close();
    }
  });
});
