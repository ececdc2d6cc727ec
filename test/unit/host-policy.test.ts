import { describe, expect, it } from 'vitest';
import { HostPolicy, parseTrustedHosts } from '../../src/auth/host-policy.js';
import { ArcGisMcpError } from '../../src/errors.js';

const online = (): HostPolicy => HostPolicy.forPortal(new URL('https://www.arcgis.com'));
const orgOnline = (): HostPolicy => HostPolicy.forPortal(new URL('https://acme.maps.arcgis.com/'));
const enterprise = (): HostPolicy =>
  HostPolicy.forPortal(new URL('https://gis.example.org/portal'), {
    trustedHosts: ['data.example.org:6443', '*.tiles.example.net'],
  });

/** Parses like the HTTP client does: `new URL`, nothing else. */
function decide(policy: HostPolicy, url: string) {
  return policy.check(new URL(url));
}

describe('HostPolicy.check', () => {
  const denied: [string, () => HostPolicy, string][] = [
    ['www.arcgis.com.evil.net', online, 'https://www.arcgis.com.evil.net/sharing/rest/portals/self'],
    ['arcgis.com.evil.net', online, 'https://arcgis.com.evil.net/'],
    ['evilarcgis.com', online, 'https://evilarcgis.com/'],
    ['evil.net/.arcgis.com/x (host is evil.net)', online, 'https://evil.net/.arcgis.com/x'],
    ['www.arcgis.com@evil.net (host is evil.net)', online, 'https://www.arcgis.com@evil.net/'],
    ['user@www.arcgis.com (userinfo on an allowed host)', online, 'https://user@www.arcgis.com/'],
    ['user:pw@www.arcgis.com', online, 'https://user:pw@www.arcgis.com/'],
    ['http://www.arcgis.com (http, not loopback)', online, 'http://www.arcgis.com/sharing/rest'],
    ['http://services1.arcgis.com (http, not loopback)', online, 'http://services1.arcgis.com/x'],
    ['other port on the portal host', online, 'https://www.arcgis.com:8443/sharing/rest'],
    ['other port on an org service host', online, 'https://services1.arcgis.com:444/x'],
    ['trailing dot www.arcgis.com.', online, 'https://www.arcgis.com./sharing/rest'],
    ['punycode lookalike www.arcgís.com', online, 'https://www.arcgís.com/sharing/rest'],
    ['punycode lookalike spelled xn--', online, 'https://www.xn--arcgs-8qa.com/'],
    ['cyrillic lookalike www.аrcgis.com', online, 'https://www.\u0430rcgis.com/'],
    ['IP literal instead of the portal', online, 'https://23.45.67.89/sharing/rest'],
    ['ftp scheme', online, 'ftp://www.arcgis.com/'],
    ['an Enterprise portal does not allow arcgis.com', enterprise, 'https://services1.arcgis.com/x'],
    ['subdomain of an exact-only host', enterprise, 'https://evil.gis.example.org/portal'],
    ['parent of a trusted host', enterprise, 'https://example.org/'],
    ['trusted host on its default port when only :6443 is trusted', enterprise, 'https://data.example.org/'],
    ['trusted subdomain rule on another port', enterprise, 'https://a.tiles.example.net:8443/'],
    ['suffix without a dot boundary (eviltiles.example.net)', enterprise, 'https://eviltiles.example.net/'],
    ['Enterprise portal host over http', enterprise, 'http://gis.example.org/portal'],
  ];
  it.each(denied)('NET-ALLOWLIST: %s gets no token', (_name, policy, url) => {
    const d = decide(policy(), url);
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.why.length).toBeGreaterThan(20);
  });

  const allowedCases: [string, () => HostPolicy, string, string][] = [
    ['the Online portal host', online, 'https://www.arcgis.com/sharing/rest/portals/self', 'portal'],
    [
      'services1.arcgis.com for an Online portal',
      online,
      'https://services1.arcgis.com/ORG/arcgis/rest/services/a/FeatureServer/0',
      'org-services',
    ],
    [
      'services1.arcgis.com for an org (maps.arcgis.com) portal',
      orgOnline,
      'https://services1.arcgis.com/x',
      'org-services',
    ],
    ['the org portal itself', orgOnline, 'https://acme.maps.arcgis.com/sharing/rest', 'portal'],
    ['explicit :443 equals the default port', online, 'https://www.arcgis.com:443/sharing/rest', 'portal'],
    ['upper-case host is normalised by the parser', online, 'https://WWW.ARCGIS.COM/sharing/rest', 'portal'],
    ['the Enterprise portal host', enterprise, 'https://gis.example.org/portal/sharing/rest', 'portal'],
    [
      'configured trusted host with port',
      enterprise,
      'https://data.example.org:6443/arcgis/rest/services',
      'trusted',
    ],
    ['configured trusted subdomain rule', enterprise, 'https://a.tiles.example.net/x', 'trusted'],
    [
      'configured trusted subdomain rule covers the apex',
      enterprise,
      'https://tiles.example.net/x',
      'trusted',
    ],
  ];
  it.each(allowedCases)('NET-ALLOWLIST: %s may receive the token', (_name, policy, url, reason) => {
    expect(decide(policy(), url)).toEqual({ allowed: true, reason });
  });

  it('NET-ALLOWLIST: a federated origin added at run time is allowed, nothing else on that host', () => {
    const p = enterprise();
    expect(decide(p, 'https://fed.example.com/server/rest/services').allowed).toBe(false);
    p.allowOrigin(new URL('https://fed.example.com/server'), 'federated');
    expect(decide(p, 'https://fed.example.com/server/rest/services/a/MapServer/0')).toEqual({
      allowed: true,
      reason: 'federated',
    });
    expect(decide(p, 'https://x.fed.example.com/').allowed).toBe(false);
    expect(decide(p, 'https://fed.example.com:8443/').allowed).toBe(false);
    expect(decide(p, 'http://fed.example.com/').allowed).toBe(false);
  });

  it('NET-ALLOWLIST: loopback http is allowed for a loopback http portal, and only there', () => {
    const p = HostPolicy.forPortal(new URL('http://127.0.0.1:7357/portal'));
    expect(decide(p, 'http://127.0.0.1:7357/portal/sharing/rest/portals/self')).toEqual({
      allowed: true,
      reason: 'portal',
    });
    expect(decide(p, 'http://127.0.0.1:7358/').allowed).toBe(false);
    expect(decide(p, 'https://127.0.0.1:7357/').allowed).toBe(false);
    expect(decide(p, 'http://localhost:7357/').allowed).toBe(false);
    expect(decide(p, 'http://127.0.0.2:7357/').allowed).toBe(false);
  });

  it('NET-ALLOWLIST: http to a loopback host is refused when the allowed origin is https', () => {
    const p = HostPolicy.forPortal(new URL('https://localhost:8443/portal'));
    expect(decide(p, 'https://localhost:8443/x').allowed).toBe(true);
    expect(decide(p, 'http://localhost:8443/x').allowed).toBe(false);
  });

  it('NET-ALLOWLIST: IP literals match only exactly, never as a suffix', () => {
    const p = HostPolicy.forPortal(new URL('https://10.0.0.5/portal'));
    p.allowOrigin(new URL('https://10.0.0.6'), 'federated', { includeSubdomains: true });
    expect(decide(p, 'https://10.0.0.5/portal').allowed).toBe(true);
    expect(decide(p, 'https://10.0.0.6/').allowed).toBe(true);
    // A name ending in an IPv4 address is not even a valid URL host, and the rule stays exact-only.
    expect(() => new URL('https://x.10.0.0.6/')).toThrow();
    expect(p.describe()).toContain('https://10.0.0.6 (federated)');
    expect(decide(p, 'https://10.0.0.7/').allowed).toBe(false);
    // The parser normalises other spellings of the same address before the check.
    expect(decide(p, 'https://167772165/portal').allowed).toBe(true);
  });

  it('NET-ALLOWLIST: IPv6 literals match exactly', () => {
    const p = HostPolicy.forPortal(new URL('http://[::1]:9000/portal'));
    expect(decide(p, 'http://[::1]:9000/x').allowed).toBe(true);
    expect(decide(p, 'http://[::2]:9000/x').allowed).toBe(false);
  });

  it('NET-ALLOWLIST: the refusal names the host and how to allow it, and contains no token', () => {
    const d = decide(online(), 'https://evil.net:8443/q?token=SECRET-TOKEN-123456.');
    expect(d.allowed).toBe(false);
    if (d.allowed) return;
    expect(d.why).toContain('"evil.net"');
    expect(d.why).toContain('ARCGIS_TRUSTED_HOSTS');
    expect(d.why).toContain('evil.net:8443');
    expect(d.why).not.toContain('SECRET-TOKEN');
    expect(d.why).not.toContain('token=');
  });

  it('NET-ALLOWLIST: a port refusal says the host is trusted on another port', () => {
    const d = decide(online(), 'https://www.arcgis.com:8443/');
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.why).toMatch(/not on port 8443/);
  });

  it('NET-ALLOWLIST: userinfo refusal never echoes the password', () => {
    const d = decide(online(), 'https://alice:hunter2-password@www.arcgis.com/');
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.why).not.toContain('hunter2');
  });

  it('describe() lists every allowed origin with its reason', () => {
    const p = enterprise();
    p.allowOrigin(new URL('https://fed.example.com/server'), 'federated');
    expect(p.describe()).toEqual([
      'https://gis.example.org (portal)',
      'https://data.example.org:6443 (trusted)',
      'https://tiles.example.net and *.tiles.example.net (trusted)',
      'https://fed.example.com (federated)',
    ]);
    expect(online().describe()).toEqual([
      'https://www.arcgis.com (portal)',
      'https://arcgis.com and *.arcgis.com (org-services)',
    ]);
  });

  it('an Online-lookalike portal does not get the arcgis.com domain rule', () => {
    const p = HostPolicy.forPortal(new URL('https://maps.arcgis.com.evil.net/'));
    expect(decide(p, 'https://services1.arcgis.com/').allowed).toBe(false);
    expect(p.describe()).toEqual(['https://maps.arcgis.com.evil.net (portal)']);
  });

  it('an Online portal on a non-standard port does not get the domain rule', () => {
    const p = HostPolicy.forPortal(new URL('https://www.arcgis.com:8443/'));
    expect(decide(p, 'https://services1.arcgis.com/').allowed).toBe(false);
  });

  it('allowOrigin refuses origins that can never be safe', () => {
    const p = online();
    expect(() => p.allowOrigin(new URL('http://fed.example.com'), 'federated')).toThrow(ArcGisMcpError);
    expect(() => p.allowOrigin(new URL('https://u:p@fed.example.com'), 'federated')).toThrow(/user name/);
    expect(() => p.allowOrigin(new URL('https://fed.example.com./'), 'federated')).toThrow(/trailing dot/);
    expect(() => HostPolicy.forPortal(new URL('http://gis.example.org'))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('parseTrustedHosts', () => {
  it('accepts hosts, host:port, .domain and *.domain', () => {
    expect(
      parseTrustedHosts(' gis.example.org, data.example.org:6443 ,.example.net,*.Example.COM,,'),
    ).toEqual([
      {
        scheme: 'https:',
        hostname: 'gis.example.org',
        port: '443',
        includeSubdomains: false,
        reason: 'trusted',
      },
      {
        scheme: 'https:',
        hostname: 'data.example.org',
        port: '6443',
        includeSubdomains: false,
        reason: 'trusted',
      },
      { scheme: 'https:', hostname: 'example.net', port: '443', includeSubdomains: true, reason: 'trusted' },
      { scheme: 'https:', hostname: 'example.com', port: '443', includeSubdomains: true, reason: 'trusted' },
    ]);
  });

  it('returns nothing for an unset or empty variable', () => {
    expect(parseTrustedHosts(undefined)).toEqual([]);
    expect(parseTrustedHosts('')).toEqual([]);
    expect(parseTrustedHosts(' , ')).toEqual([]);
  });

  it('tolerates an https:// prefix, normalises IDN to punycode and accepts IP literals', () => {
    expect(parseTrustedHosts('https://gis.example.org/')[0]?.hostname).toBe('gis.example.org');
    expect(parseTrustedHosts('bücher.example')[0]?.hostname).toBe('xn--bcher-kva.example');
    expect(parseTrustedHosts('10.1.2.3:8443')[0]).toMatchObject({ hostname: '10.1.2.3', port: '8443' });
    expect(parseTrustedHosts('[fd00::1]')[0]).toMatchObject({ hostname: '[fd00::1]', port: '443' });
  });

  const bad: [string, string][] = [
    ['a URL with a path', 'https://gis.example.org/portal'],
    ['a path without a scheme', 'gis.example.org/portal'],
    ['userinfo', 'user@gis.example.org'],
    ['userinfo with a password', 'https://user:pw@gis.example.org'],
    ['http', 'http://gis.example.org'],
    ['another scheme', 'ftp://gis.example.org'],
    ['a wildcard in the middle', 'gis.*.example.org'],
    ['a trailing wildcard', 'gis.example.*'],
    ['a bare wildcard', '*'],
    ['a double wildcard', '*.*.example.org'],
    ['a subdomain rule on a single label', '.com'],
    ['a subdomain rule on an IP', '*.10.0.0.1'],
    ['a trailing dot', 'gis.example.org.'],
    ['a bad port', 'gis.example.org:99999'],
    ['a non-numeric port', 'gis.example.org:https'],
    ['a query', 'gis.example.org?x=1'],
    ['percent-encoding', 'gis.example.org%2fevil.net'],
    ['a space inside', 'gis example.org'],
  ];
  it.each(bad)('NET-ALLOWLIST: rejects %s as CONFIG_INVALID', (_name, value) => {
    let caught: unknown;
    try {
      parseTrustedHosts(`ok.example.org,${value}`);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ArcGisMcpError);
    expect((caught as ArcGisMcpError).code).toBe('CONFIG_INVALID');
    expect((caught as ArcGisMcpError).nextStep).toContain('ARCGIS_TRUSTED_HOSTS');
  });

  it('HostPolicy.forPortal applies the same syntax to trustedHosts', () => {
    expect(() =>
      HostPolicy.forPortal(new URL('https://www.arcgis.com'), { trustedHosts: ['a.b/c'] }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
