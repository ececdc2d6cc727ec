import { describe, expect, it } from 'vitest';
import { bindServerToken, bindToken } from '../../src/auth/bind-token.js';
import type { Credential } from '../../src/auth/credential.js';
import { HostPolicy } from '../../src/auth/host-policy.js';
import { ArcGisMcpError } from '../../src/errors.js';

const USER_TOKEN = 'user-TOKEN-bind-test-0001.';
const APP_TOKEN = 'app-TOKEN-bind-test-0002.';

const user: Credential = {
  kind: 'user',
  source: 'oauth',
  portalUrl: 'https://www.arcgis.com/',
  username: 'alice',
  accessToken: USER_TOKEN,
  accessExpiresAt: Number.MAX_SAFE_INTEGER,
};
const app: Credential = {
  kind: 'app',
  source: 'client-credentials',
  portalUrl: 'https://www.arcgis.com/',
  username: undefined,
  accessToken: APP_TOKEN,
  accessExpiresAt: Number.MAX_SAFE_INTEGER,
};

const online = HostPolicy.forPortal(new URL('https://www.arcgis.com'));
const enterprise = HostPolicy.forPortal(new URL('https://gis.example.org/portal'), {
  trustedHosts: ['maps.example.org'],
});

function refusal(fn: () => unknown): ArcGisMcpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ArcGisMcpError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const FEATURE_LAYER = 'https://services1.arcgis.com/AbCdEf/arcgis/rest/services/Parcels/FeatureServer/0';

describe('bindToken: app tokens (NET-TWO-LEGGED)', () => {
  it('NET-TWO-LEGGED: an app token is refused for a feature service and the refusal explains what to do', () => {
    const e = refusal(() => bindToken(app, new URL(FEATURE_LAYER), online, 'content'));
    expect(e.code).toBe('ARCGIS_APP_TOKEN_REFUSED');
    expect(e.message).toMatch(/app token/i);
    expect(e.nextStep).toContain('arcgis_auth_url');
    expect(e.message).not.toContain(APP_TOKEN);
    expect(JSON.stringify(e)).not.toContain(APP_TOKEN);
  });

  it('NET-TWO-LEGGED: an app token is refused for portal content at the portal itself', () => {
    const e = refusal(() =>
      bindToken(app, new URL('https://www.arcgis.com/sharing/rest/content/items/abc'), online, 'content'),
    );
    expect(e.code).toBe('ARCGIS_APP_TOKEN_REFUSED');
  });

  it('NET-TWO-LEGGED: an app token is refused for content even on an untrusted host (refusal comes first)', () => {
    const e = refusal(() => bindToken(app, new URL('https://evil.net/x'), online, 'content'));
    expect(e.code).toBe('ARCGIS_APP_TOKEN_REFUSED');
  });

  it('an app token may go to the portal for identity and discovery', () => {
    const bound = bindToken(
      app,
      new URL('https://www.arcgis.com/sharing/rest/portals/self'),
      online,
      'identity',
    );
    expect(bound).toEqual({ token: APP_TOKEN, origin: 'https://www.arcgis.com' });
  });
});

describe('bindToken: host allow-list (NET-ALLOWLIST)', () => {
  it('a user token is bound to the exact origin of a hosted feature service', () => {
    expect(bindToken(user, new URL(FEATURE_LAYER), online, 'content')).toEqual({
      token: USER_TOKEN,
      origin: 'https://services1.arcgis.com',
    });
  });

  it('a user token is bound to the portal and to a configured trusted host', () => {
    expect(
      bindToken(
        user,
        new URL('https://gis.example.org/portal/sharing/rest/community/self'),
        enterprise,
        'identity',
      ).origin,
    ).toBe('https://gis.example.org');
    expect(
      bindToken(
        user,
        new URL('https://maps.example.org/server/rest/services/A/FeatureServer/0'),
        enterprise,
        'content',
      ).origin,
    ).toBe('https://maps.example.org');
  });

  it('a generateToken referer travels with the bound token', () => {
    const bound = bindToken(
      { ...user, referer: 'https://arcgis-mcp.local' },
      new URL(FEATURE_LAYER),
      online,
      'content',
    );
    expect(bound.referer).toBe('https://arcgis-mcp.local');
  });

  it.each([
    ['a lookalike host', 'https://www.arcgis.com.evil.net/sharing/rest/content'],
    ['the allowed name in the path', 'https://evil.net/.arcgis.com/x'],
    ['userinfo disguising the host', 'https://www.arcgis.com@evil.net/x'],
    ['userinfo in front of the real host', 'https://user@services1.arcgis.com/x'],
    ['another port', 'https://services1.arcgis.com:8443/x'],
    ['an IP literal', 'https://52.1.2.3/arcgis/rest/services/A/FeatureServer/0'],
    ['a punycode lookalike', 'https://www.arcgís.com/sharing/rest'],
    ['a suffix without the dot', 'https://evilarcgis.com/x'],
    ['plain http', 'http://services1.arcgis.com/x'],
    ['a trailing-dot host', 'https://services1.arcgis.com./x'],
    ['an unrelated host', 'https://gis.other-org.com/x'],
  ])('NET-ALLOWLIST: %s gets no token (%s)', (_name, url) => {
    const e = refusal(() => bindToken(user, new URL(url), online, 'content'));
    expect(e.code).toBe('ARCGIS_HOST_NOT_TRUSTED');
    expect(e.message).not.toContain(USER_TOKEN);
    expect(e.nextStep ?? '').not.toContain(USER_TOKEN);
    expect(JSON.stringify(e)).not.toContain(USER_TOKEN);
    expect(e.nextStep).toContain('ARCGIS_TRUSTED_HOSTS');
  });

  it('NET-ALLOWLIST: an Enterprise portal token does not go to ArcGIS Online hosts', () => {
    expect(refusal(() => bindToken(user, new URL(FEATURE_LAYER), enterprise, 'content')).code).toBe(
      'ARCGIS_HOST_NOT_TRUSTED',
    );
  });
});

describe('bindServerToken: a federated server token (arcgis-protocol.md §11)', () => {
  const serverToken: Credential = { ...user, accessToken: 'server-TOKEN-bind-test-0003.' };
  const root = new URL('https://gis.example.org/server');

  it('is bound to the verified server origin', () => {
    expect(
      bindServerToken(
        serverToken,
        new URL('https://gis.example.org/server/rest/services/A/FeatureServer/0'),
        root,
      ),
    ).toEqual({ token: serverToken.accessToken, origin: 'https://gis.example.org' });
  });

  it.each([
    ['another host', 'https://gis.example.org.evil.net/server/rest/services/A/FeatureServer/0'],
    ['another port', 'https://gis.example.org:6443/server/rest/services/A/FeatureServer/0'],
    ['plain http', 'http://gis.example.org/server/rest/services/A/FeatureServer/0'],
    ['userinfo', 'https://x@gis.example.org/server/rest/services/A/FeatureServer/0'],
  ])('NET-ALLOWLIST: a federated server token never goes to %s', (_name, url) => {
    const e = refusal(() => bindServerToken(serverToken, new URL(url), root));
    expect(e.code).toBe('ARCGIS_HOST_NOT_TRUSTED');
    expect(JSON.stringify(e)).not.toContain(serverToken.accessToken);
  });
});
