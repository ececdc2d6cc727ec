import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadEnv, normalisePortalUrl, restUrlOf, type Env } from '../../src/config.js';
import { ArcGisMcpError } from '../../src/errors.js';

function configError(env: Env): ArcGisMcpError {
  try {
    loadConfig({ env });
  } catch (e) {
    if (e instanceof ArcGisMcpError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('normalisePortalUrl', () => {
  it.each([
    ['https://www.arcgis.com/sharing/rest', 'https://www.arcgis.com/'],
    ['https://www.arcgis.com/sharing/rest/', 'https://www.arcgis.com/'],
    ['https://gis.example.org/portal/sharing/rest', 'https://gis.example.org/portal'],
    ['https://gis.example.org/portal/sharing', 'https://gis.example.org/portal'],
    ['https://gis.example.org/portal/Sharing/Rest/', 'https://gis.example.org/portal'],
    ['https://gis.example.org/portal/', 'https://gis.example.org/portal'],
    ['  https://org.maps.arcgis.com  ', 'https://org.maps.arcgis.com/'],
    ['https://gis.example.org/portal?f=json#x', 'https://gis.example.org/portal'],
  ])('%s → %s', (input, expected) => {
    expect(normalisePortalUrl(input).href).toBe(expected);
  });

  it('keeps a path that merely contains "sharing"', () => {
    expect(normalisePortalUrl('https://gis.example.org/sharingportal').href).toBe(
      'https://gis.example.org/sharingportal',
    );
  });

  it('accepts plain http for a loopback portal (the sandbox)', () => {
    expect(normalisePortalUrl('http://127.0.0.1:8443/portal/sharing/rest').href).toBe(
      'http://127.0.0.1:8443/portal',
    );
  });

  it.each([
    'http://gis.example.org/portal',
    'ftp://gis.example.org/portal',
    'https://user:pw@gis.example.org',
    'gis.example.org',
  ])('refuses %s', (input) => {
    expect(() => normalisePortalUrl(input)).toThrow(ArcGisMcpError);
  });

  it('restUrlOf appends /sharing/rest once', () => {
    expect(restUrlOf(normalisePortalUrl('https://gis.example.org/portal/')).href).toBe(
      'https://gis.example.org/portal/sharing/rest',
    );
    expect(restUrlOf(normalisePortalUrl('https://www.arcgis.com')).href).toBe(
      'https://www.arcgis.com/sharing/rest',
    );
  });
});

describe('loadConfig', () => {
  it('AUTH-PORTAL-FROM-CONFIG: defaults to ArcGIS Online, the keychain and out-of-band sign-in', () => {
    const c = loadConfig({ env: { HOME: '/home/u' } });
    expect(c.profiles).toHaveLength(1);
    expect(c.profiles[0]?.portalUrl.href).toBe('https://www.arcgis.com/');
    expect(c.profiles[0]?.restUrl.href).toBe('https://www.arcgis.com/sharing/rest');
    expect(c.profiles[0]?.redirectUri).toBe('urn:ietf:wg:oauth:2.0:oob');
    expect(c.tokenStore).toBe('keychain');
    expect(c.configDir).toBe('/home/u/.config/arcgis-mcp');
  });

  it('AUTH-PORTAL-FROM-CONFIG: the portal comes from ARCGIS_PORTAL_URL, REST suffix stripped', () => {
    const c = loadConfig({
      env: {
        ARCGIS_PORTAL_URL: 'https://gis.example.org/portal/sharing/rest',
        ARCGIS_CLIENT_ID: 'cid',
        ARCGIS_PROFILE: 'work',
      },
    });
    expect(c.profiles[0]?.portalUrl.href).toBe('https://gis.example.org/portal');
    expect(c.profiles[0]?.restUrl.href).toBe('https://gis.example.org/portal/sharing/rest');
    expect(c.profiles[0]?.clientId).toBe('cid');
    expect(c.defaultProfile).toBe('work');
  });

  it('refuses a portal over plain http unless it is loopback', () => {
    const e = configError({ ARCGIS_PORTAL_URL: 'http://gis.example.org/portal' });
    expect(['CONFIG_INVALID', 'ARCGIS_INVALID_URL']).toContain(e.code);
    expect(
      loadConfig({ env: { ARCGIS_PORTAL_URL: 'http://127.0.0.1:9000/portal' } }).profiles[0]?.portalUrl
        .protocol,
    ).toBe('http:');
  });

  it('ARCGIS_TOKEN_STORE accepts keychain, file and memory only', () => {
    expect(loadConfig({ env: { ARCGIS_TOKEN_STORE: 'file' } }).tokenStore).toBe('file');
    expect(loadConfig({ env: { ARCGIS_TOKEN_STORE: 'MEMORY' } }).tokenStore).toBe('memory');
    const e = configError({ ARCGIS_TOKEN_STORE: 'plaintext' });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('keychain');
  });

  it.each([
    'https://app.example.com/callback',
    'http://evil.example.com/callback',
    'http://127.0.0.1.evil.net/callback',
    'not a url',
    'file:///tmp/cb',
  ])('refuses the redirect URI %s (out-of-band or loopback http only, RFC 8252 §7.3)', (uri) => {
    const e = configError({ ARCGIS_REDIRECT_URI: uri });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.nextStep).toContain('urn:ietf:wg:oauth:2.0:oob');
  });

  it.each(['urn:ietf:wg:oauth:2.0:oob', 'http://127.0.0.1:7777/callback', 'http://127.0.0.1/callback'])(
    'accepts the redirect URI %s',
    (uri) => {
      expect(loadConfig({ env: { ARCGIS_REDIRECT_URI: uri } }).profiles[0]?.redirectUri).toBe(uri);
    },
  );

  // Regression: `localhost` used to be accepted; it may resolve to ::1 while the listener binds
  // 127.0.0.1 only.
  it('refuses a localhost redirect URI (RFC 8252 §8.3: use the IP literal)', () => {
    expect(configError({ ARCGIS_REDIRECT_URI: 'http://localhost:7777/callback' }).code).toBe(
      'CONFIG_INVALID',
    );
    // The listener binds 127.0.0.1 only (AUTH-LOOPBACK), so an IPv6 loopback redirect could never arrive.
    expect(configError({ ARCGIS_REDIRECT_URI: 'http://[::1]:7777/callback' }).code).toBe('CONFIG_INVALID');
  });

  it.each([
    ['ARCGIS_REQUEST_TIMEOUT_MS', 'abc'],
    ['ARCGIS_REQUEST_TIMEOUT_MS', '0'],
    ['ARCGIS_TOOL_DEADLINE_MS', '-5'],
    ['ARCGIS_REFRESH_EXPIRATION_MINUTES', '1.5'],
  ])('refuses %s=%s', (name, value) => {
    const e = configError({ [name]: value });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(name);
  });

  it('NET-TIMEOUTS: a configured request timeout and tool deadline are used', () => {
    const c = loadConfig({ env: { ARCGIS_REQUEST_TIMEOUT_MS: '5000', ARCGIS_TOOL_DEADLINE_MS: '60000' } });
    expect(c.requestTimeoutMs).toBe(5000);
    expect(c.toolDeadlineMs).toBe(60000);
  });

  it('NET-TIMEOUTS: every request and every tool call has a timeout by default', () => {
    const c = loadConfig({ env: {} });
    expect(c.requestTimeoutMs).toBeGreaterThan(0);
    expect(c.toolDeadlineMs).toBeGreaterThan(c.requestTimeoutMs);
  });
});

describe('loadEnv', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads .env from the working directory and lets the real environment win', () => {
    dir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-env-'));
    writeFileSync(
      join(dir, '.env'),
      'ARCGIS_PORTAL_URL=https://from-file.example.org\nARCGIS_CLIENT_ID=file-id\n',
    );
    const { env, envFile } = loadEnv({ ARCGIS_CLIENT_ID: 'real-id' }, dir);
    expect(envFile).toBe(join(dir, '.env'));
    expect(env.ARCGIS_PORTAL_URL).toBe('https://from-file.example.org');
    expect(env.ARCGIS_CLIENT_ID).toBe('real-id');
  });

  it('without .env the environment is used as is', () => {
    dir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-env-'));
    const env = { A: '1' };
    expect(loadEnv(env, dir)).toEqual({ env, envFile: undefined });
  });
});
