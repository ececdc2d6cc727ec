import { describe, expect, it } from 'vitest';
import { isLoopbackHostname, parseHttpUrl, parseServiceUrl } from '../../src/auth/service-url.js';
import { ArcGisMcpError } from '../../src/errors.js';
import { redactText } from '../../src/redact.js';

function errorOf(fn: () => unknown): ArcGisMcpError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ArcGisMcpError);
    return e as ArcGisMcpError;
  }
  throw new Error('expected a throw');
}

describe('isLoopbackHostname', () => {
  it.each(['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '[::1]', 'localhost', 'LOCALHOST'])(
    'treats %s as loopback',
    (h) => expect(isLoopbackHostname(h)).toBe(true),
  );
  it.each([
    '128.0.0.1',
    '127.0.0.256',
    '127.0.0',
    '10.0.0.1',
    '0.0.0.0',
    '::2',
    '[::ffff:7f00:1]',
    'localhost.evil.net',
    'evil.localhost',
    '127.0.0.1.evil.net',
    'localhost.',
    '',
  ])('does not treat %s as loopback', (h) => expect(isLoopbackHostname(h)).toBe(false));
});

describe('parseHttpUrl', () => {
  it('accepts https URLs and keeps path and query', () => {
    const u = parseHttpUrl('  https://gis.example.org/portal/sharing/rest?f=json  ');
    expect(u.href).toBe('https://gis.example.org/portal/sharing/rest?f=json');
  });

  it('drops the fragment', () => {
    expect(parseHttpUrl('https://www.arcgis.com/home/item.html?id=abc#overview').href).toBe(
      'https://www.arcgis.com/home/item.html?id=abc',
    );
  });

  it.each([
    'http://127.0.0.1:8080/portal',
    'http://localhost:3000/',
    'http://[::1]:9000/x',
    'http://127.3.4.5/',
  ])('accepts plain http for loopback %s', (input) => expect(parseHttpUrl(input).protocol).toBe('http:'));

  const invalid: [string, string][] = [
    ['empty text', ''],
    ['whitespace only', '   '],
    ['not a URL', 'hello world'],
    ['no scheme', 'services1.arcgis.com/x/arcgis/rest/services/a/FeatureServer/0'],
    ['fragment only', '#/FeatureServer/0'],
    ['relative path', '/arcgis/rest/services/a/FeatureServer/0'],
    ['http on a public host', 'http://services1.arcgis.com/x/arcgis/rest/services/a/FeatureServer/0'],
    ['http on a lookalike of localhost', 'http://localhost.evil.net/'],
    ['javascript scheme', 'javascript:alert(1)'],
    ['file scheme', 'file:///etc/passwd'],
    ['ftp scheme', 'ftp://gis.example.org/'],
    ['userinfo', 'https://user@gis.example.org/'],
    ['userinfo disguising the host', 'https://www.arcgis.com@evil.net/'],
    ['user and password', 'https://user:pw@gis.example.org/'],
    ['trailing dot host', 'https://www.arcgis.com./sharing/rest'],
    ['embedded newline', 'https://www.arc\ngis.com/'],
    ['embedded tab', 'https://www.arcgis.com/\tx'],
    ['NUL byte', 'https://www.arcgis.com/\u0000'],
    ['a huge URL', `https://gis.example.org/${'a'.repeat(9000)}`],
  ];
  it.each(invalid)('REL-BAD-INPUT: rejects %s with ARCGIS_INVALID_URL and a next step', (_name, input) => {
    const e = errorOf(() => parseHttpUrl(input));
    expect(e.code).toBe('ARCGIS_INVALID_URL');
    expect(e.nextStep).toBeTruthy();
  });

  it('suggests adding the scheme when it is missing', () => {
    expect(errorOf(() => parseHttpUrl('gis.example.org/portal')).nextStep).toContain(
      'https://gis.example.org/portal',
    );
  });

  it('tells the user the real host behind userinfo, never the password', () => {
    const e = errorOf(() => parseHttpUrl('https://www.arcgis.com:s3cret-pass@evil.net/'));
    expect(e.nextStep).toContain('"evil.net"');
    expect(e.toUserText()).not.toContain('s3cret-pass');
  });

  it('SEC-REDACT: a token in an unparseable URL is not echoed in the error', () => {
    const e = errorOf(() => parseHttpUrl('not a url?token=CANARY-tok-abcdefgh.'));
    expect(e.toUserText()).not.toContain('CANARY-tok-abcdefgh');
  });

  it('SEC-REDACT: a token pasted in a URL is registered with the redactor', () => {
    const pasted = 'PASTEDtok_0123456789-abc.';
    parseHttpUrl(`https://services1.arcgis.com/x/arcgis/rest/services/a/FeatureServer/0?token=${pasted}`);
    expect(redactText(`the value ${pasted} appeared in free text`)).toBe(
      'the value [REDACTED] appeared in free text',
    );
  });
});

describe('parseServiceUrl', () => {
  const ONLINE = 'https://services1.arcgis.com/AbCdEf123/arcgis';

  it('parses an ArcGIS Online feature layer URL', () => {
    const p = parseServiceUrl(`${ONLINE}/rest/services/Parcels/FeatureServer/0`);
    expect(p.layerUrl.href).toBe(`${ONLINE}/rest/services/Parcels/FeatureServer/0`);
    expect(p.serviceRoot.href).toBe(`${ONLINE}/rest/services/Parcels/FeatureServer`);
    expect(p.serverRoot.href).toBe(ONLINE);
    expect(p.layerId).toBe(0);
    expect(p.serviceType).toBe('FeatureServer');
  });

  it('NET-NO-TOKEN-IN-URL: drops /query, ?f=json and a pasted token', () => {
    const p = parseServiceUrl(
      `${ONLINE}/rest/services/Parcels/FeatureServer/3/query?where=1%3D1&f=json&token=PASTED_TOKEN_abc.def.#frag`,
    );
    expect(p.layerUrl.href).toBe(`${ONLINE}/rest/services/Parcels/FeatureServer/3`);
    expect(p.layerId).toBe(3);
    for (const u of [p.layerUrl, p.serviceRoot, p.serverRoot]) {
      expect(u.search).toBe('');
      expect(u.hash).toBe('');
      expect(u.href).not.toContain('PASTED_TOKEN');
    }
  });

  it('parses an Enterprise MapServer layer in a folder', () => {
    const p = parseServiceUrl('https://gis.example.org/server/rest/services/Utilities/Water/MapServer/12/');
    expect(p).toMatchObject({ layerId: 12, serviceType: 'MapServer' });
    expect(p.layerUrl.href).toBe('https://gis.example.org/server/rest/services/Utilities/Water/MapServer/12');
    expect(p.serviceRoot.href).toBe('https://gis.example.org/server/rest/services/Utilities/Water/MapServer');
    expect(p.serverRoot.href).toBe('https://gis.example.org/server');
  });

  it('parses a service root (no layer id) and a service-level /query', () => {
    for (const suffix of ['', '/', '/query', '?f=pjson']) {
      const p = parseServiceUrl(`${ONLINE}/rest/services/Parcels/FeatureServer${suffix}`);
      expect(p.layerId).toBeNull();
      expect(p.layerUrl.href).toBe(`${ONLINE}/rest/services/Parcels/FeatureServer`);
    }
  });

  it('keeps a non-default port and a loopback http server (the sandbox)', () => {
    const p = parseServiceUrl('http://127.0.0.1:7357/arcgis/rest/services/Private/FeatureServer/1');
    expect(p.serverRoot.href).toBe('http://127.0.0.1:7357/arcgis');
    expect(p.layerUrl.href).toBe('http://127.0.0.1:7357/arcgis/rest/services/Private/FeatureServer/1');
  });

  it('accepts a server at the web root (Koop) and odd casing', () => {
    const p = parseServiceUrl('https://koop.example.org/REST/Services/my-data/featureserver/0');
    expect(p.serverRoot.href).toBe('https://koop.example.org/');
    expect(p.serviceType).toBe('FeatureServer');
    expect(p.layerUrl.href).toBe('https://koop.example.org/REST/Services/my-data/FeatureServer/0');
  });

  it('keeps percent-encoding in service names', () => {
    const p = parseServiceUrl(`${ONLINE}/rest/services/My%20Layer/FeatureServer/0`);
    expect(p.layerUrl.pathname).toBe('/AbCdEf123/arcgis/rest/services/My%20Layer/FeatureServer/0');
  });

  it('normalises a zero-padded layer id', () => {
    expect(parseServiceUrl(`${ONLINE}/rest/services/P/FeatureServer/007`).layerUrl.href).toBe(
      `${ONLINE}/rest/services/P/FeatureServer/7`,
    );
  });

  const notServices: [string, string][] = [
    ['a portal home page', 'https://www.arcgis.com/home/item.html?id=0123456789abcdef'],
    ['a sharing REST item', 'https://www.arcgis.com/sharing/rest/content/items/0123456789abcdef'],
    ['a plain web page', 'https://example.org/about'],
    ['the services directory', `${ONLINE}/rest/services`],
    ['a folder', 'https://gis.example.org/server/rest/services/Utilities'],
    ['an ImageServer', 'https://gis.example.org/server/rest/services/Elevation/ImageServer'],
    ['a GPServer', 'https://gis.example.org/server/rest/services/Tools/GPServer/Buffer'],
    ['no service name', `${ONLINE}/rest/services/FeatureServer/0`],
    ['a non-numeric layer', `${ONLINE}/rest/services/P/FeatureServer/layers`],
    ['a feature id after the layer', `${ONLINE}/rest/services/P/FeatureServer/0/123`],
    ['another operation', `${ONLINE}/rest/services/P/FeatureServer/0/queryRelatedRecords`],
    ['a negative id', `${ONLINE}/rest/services/P/FeatureServer/-1`],
  ];
  it.each(notServices)('REL-BAD-INPUT: %s is ARCGIS_NOT_A_SERVICE with an example', (_name, input) => {
    const e = errorOf(() => parseServiceUrl(input));
    expect(e.code).toBe('ARCGIS_NOT_A_SERVICE');
    expect(e.message).toContain('/rest/services/');
    expect(e.message).toContain('FeatureServer/0');
    expect(e.nextStep).toBeTruthy();
  });

  it('names the unsupported service type', () => {
    expect(
      errorOf(() => parseServiceUrl('https://h.example.org/a/rest/services/E/ImageServer')).message,
    ).toContain('ImageServer');
  });

  it('rejects unacceptable URLs before looking at the path', () => {
    expect(
      errorOf(() => parseServiceUrl('http://services1.arcgis.com/x/arcgis/rest/services/a/FeatureServer/0'))
        .code,
    ).toBe('ARCGIS_INVALID_URL');
    expect(
      errorOf(() => parseServiceUrl('https://u@h.example.org/a/rest/services/a/FeatureServer/0')).code,
    ).toBe('ARCGIS_INVALID_URL');
  });

  it('resolves dot segments before recognising the path', () => {
    const p = parseServiceUrl('https://gis.example.org/server/rest/services/x/../P/FeatureServer/0');
    expect(p.layerUrl.href).toBe('https://gis.example.org/server/rest/services/P/FeatureServer/0');
  });
});
