import { isIP } from 'node:net';
import { ArcGisMcpError } from '../errors.js';
import { isLoopbackHostname } from './service-url.js';

/**
 * NET-ALLOWLIST (security.md): which origins may receive the signed-in user's token.
 *
 * Decisions are made on the parsed URL only (scheme, userinfo, hostname, effective port), never
 * with regular expressions over the whole URL; that is the mistake in arcgis-rest-js
 * (arcgis-protocol.md §7), whose patterns also match `https://www.arcgis.com.evil.net/`.
 *
 * - scheme: https; http only for loopback hosts and only when the allowed origin is http too;
 * - userinfo (`user@host`) is refused outright: it is how a real host is disguised;
 * - hostname: equal to an allowed host, or (for entries allowing subdomains) ending with
 *   `.` + the allowed host; the WHATWG parser has already lower-cased it and turned IDN into
 *   punycode, so `www.arcgís.com` arrives as `www.xn--arcgs-...com` and matches nothing;
 * - IP literals match only exactly, never as a suffix;
 * - trailing-dot hostnames (`www.arcgis.com.`) are refused, not normalised: the absolute form
 *   names the same DNS entry, but virtual hosting, CDNs and certificate checks treat the two
 *   spellings differently, no ArcGIS URL uses it, and refusing keeps one spelling per host;
 * - the effective port (443 for https, 80 for http when the URL has none) must match.
 */

export type AllowReason = 'portal' | 'org-services' | 'federated' | 'trusted';

export interface AllowedOrigin {
  scheme: 'https:' | 'http:';
  hostname: string;
  /** Effective port, e.g. '443'. */
  port: string;
  includeSubdomains: boolean;
  reason: AllowReason;
}

export type PolicyDecision = { allowed: true; reason: AllowReason } | { allowed: false; why: string };

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

function effectivePort(url: URL): string {
  return url.port !== '' ? url.port : (DEFAULT_PORTS[url.protocol] ?? '');
}

/** `URL.hostname` keeps IPv6 brackets; `isIP` wants them off. */
function isIpLiteral(hostname: string): boolean {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0;
}

function hasBadLabels(hostname: string): boolean {
  return hostname === '' || hostname.endsWith('.') || hostname.startsWith('.') || hostname.includes('..');
}

/** Hosts of ArcGIS Online portals: www.arcgis.com and `<urlKey>.maps.arcgis.com` (arcgis-protocol.md §1). */
function isArcGisOnlinePortal(url: URL): boolean {
  const h = url.hostname;
  return (
    url.protocol === 'https:' &&
    effectivePort(url) === '443' &&
    (h === 'www.arcgis.com' || h === 'arcgis.com' || (h.endsWith('.maps.arcgis.com') && !hasBadLabels(h)))
  );
}

const TRUSTED_HOSTS_HINT =
  'ARCGIS_TRUSTED_HOSTS takes comma-separated hosts: "gis.example.org", "gis.example.org:8443", or ".example.org" / "*.example.org" for all subdomains (https only).';

function configInvalid(message: string): ArcGisMcpError {
  return new ArcGisMcpError('CONFIG_INVALID', message, {
    nextStep: `Fix the server configuration and restart it. ${TRUSTED_HOSTS_HINT}`,
  });
}

/** A host named in a refusal: quoted, capped, without anything but the host. */
function named(hostname: string): string {
  return JSON.stringify(hostname.length > 120 ? `${hostname.slice(0, 120)}…` : hostname);
}

function originText(o: AllowedOrigin): string {
  const port = DEFAULT_PORTS[o.scheme] === o.port ? '' : `:${o.port}`;
  const host = o.includeSubdomains ? `${o.hostname} and *.${o.hostname}` : o.hostname;
  return `${o.scheme}//${host}${port}`;
}

export class HostPolicy {
  readonly #origins: AllowedOrigin[] = [];

  private constructor() {}

  /**
   * The portal's origin is allowed ('portal'). For ArcGIS Online portals (www.arcgis.com or
   * `*.maps.arcgis.com`) the whole arcgis.com domain, https on 443 only, is allowed as
   * 'org-services': Esri hosts org services on `servicesN.arcgis.com` / `tilesN.arcgis.com` and
   * Online tokens are valid there (arcgis-protocol.md §7). Every host under arcgis.com is Esri's.
   * Trusted hosts use the ARCGIS_TRUSTED_HOSTS syntax (see `parseTrustedHosts`).
   */
  static forPortal(portalUrl: URL, options: { trustedHosts?: readonly string[] } = {}): HostPolicy {
    const policy = new HostPolicy();
    policy.allowOrigin(portalUrl, 'portal');
    if (isArcGisOnlinePortal(portalUrl)) {
      policy.#add({
        scheme: 'https:',
        hostname: 'arcgis.com',
        port: '443',
        includeSubdomains: true,
        reason: 'org-services',
      });
    }
    for (const entry of options.trustedHosts ?? []) {
      for (const origin of parseTrustedHosts(entry)) policy.#add(origin);
    }
    return policy;
  }

  /**
   * Adds an origin (e.g. a verified federated server root). Throws `CONFIG_INVALID` for URLs that
   * could never be allowed (http on a non-loopback host, userinfo, trailing dot), so a bad origin
   * fails loudly instead of silently allowing nothing. `includeSubdomains` is ignored for IP literals.
   */
  allowOrigin(url: URL, reason: AllowReason, options: { includeSubdomains?: boolean } = {}): void {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw configInvalid(`Cannot allow ${url.protocol} URLs to receive a token; only https is supported.`);
    }
    if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) {
      throw configInvalid(
        `Cannot allow ${named(url.hostname)} over plain http: only loopback hosts may use http; use https.`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw configInvalid('An allowed origin must not contain a user name or password (user@host).');
    }
    if (hasBadLabels(url.hostname)) {
      throw configInvalid(`The host ${named(url.hostname)} has an empty label or a trailing dot.`);
    }
    const ip = isIpLiteral(url.hostname);
    this.#add({
      scheme: url.protocol,
      hostname: url.hostname,
      port: effectivePort(url),
      includeSubdomains: !ip && options.includeSubdomains === true && url.hostname.includes('.'),
      reason,
    });
  }

  #add(origin: AllowedOrigin): void {
    const same = this.#origins.find(
      (o) =>
        o.scheme === origin.scheme &&
        o.hostname === origin.hostname &&
        o.port === origin.port &&
        o.includeSubdomains === origin.includeSubdomains,
    );
    if (!same) this.#origins.push(origin);
  }

  /** Whether the signed-in user's token may be sent to `url`. */
  check(url: URL): PolicyDecision {
    const host = url.hostname;
    if (url.username !== '' || url.password !== '') {
      return {
        allowed: false,
        why: `the URL for ${named(host)} contains a user name or password before the host (user@host), which is how a real host is disguised. Remove the part before "@".`,
      };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return {
        allowed: false,
        why: `${JSON.stringify(url.protocol)} URLs never receive a token; use https.`,
      };
    }
    if (url.protocol === 'http:' && !isLoopbackHostname(host)) {
      return {
        allowed: false,
        why: `${named(host)} was addressed over plain http, which would expose the token on the network. Use https:// (plain http is accepted only for loopback hosts).`,
      };
    }
    if (hasBadLabels(host)) {
      return {
        allowed: false,
        why: `the host ${named(host)} has a trailing dot or an empty label. Write the host without it.`,
      };
    }
    const port = effectivePort(url);
    const ip = isIpLiteral(host);
    let portMismatch = false;
    let best: AllowedOrigin | undefined;
    for (const o of this.#origins) {
      if (o.scheme !== url.protocol) continue;
      const hostMatches =
        o.hostname === host ||
        (o.includeSubdomains && !ip && !isIpLiteral(o.hostname) && host.endsWith(`.${o.hostname}`));
      if (!hostMatches) continue;
      if (o.port !== port) {
        portMismatch = true;
        continue;
      }
      // Prefer the most specific reason: an exact host beats a domain rule.
      if (!best || (best.hostname !== host && o.hostname === host)) best = o;
    }
    if (best) return { allowed: true, reason: best.reason };
    const hostPort = url.port === '' ? host : `${host}:${url.port}`;
    if (portMismatch) {
      return {
        allowed: false,
        why: `${named(host)} is trusted, but not on port ${port}. If ${named(hostPort)} is really your organisation's server, add "${hostPort}" to ARCGIS_TRUSTED_HOSTS and restart the server.`,
      };
    }
    return {
      allowed: false,
      why: `${named(host)} is not the portal, one of its service hosts, a verified federated server or a trusted host. If it is your organisation's server, add "${hostPort}" to ARCGIS_TRUSTED_HOSTS (comma-separated) and restart the server.`,
    };
  }

  /** Human-readable list for diagnostics, e.g. `https://www.arcgis.com (portal)`. */
  describe(): string[] {
    return this.#origins.map((o) => `${originText(o)} (${o.reason})`);
  }
}

/**
 * Parses ARCGIS_TRUSTED_HOSTS: comma-separated `host`, `host:port`, or `.example.org` /
 * `*.example.org` for the domain and its subdomains; https only (an `https://` prefix is
 * tolerated, `http://` is not). Throws `CONFIG_INVALID` for URLs with paths, userinfo, wildcards
 * anywhere but the front, bad ports, trailing dots, and subdomain rules on IP literals or
 * single-label names (`.com`).
 */
export function parseTrustedHosts(value: string | undefined): AllowedOrigin[] {
  if (value === undefined) return [];
  const out: AllowedOrigin[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    out.push(parseTrustedHost(entry));
  }
  return out;
}

function parseTrustedHost(entry: string): AllowedOrigin {
  const shown = JSON.stringify(entry.length > 120 ? `${entry.slice(0, 120)}…` : entry);
  let text = entry;
  let protocol: 'https:' | 'http:' = 'https:';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    const name = scheme[1]?.toLowerCase();
    // product.md: plain http only for loopback hosts (checked below, once the host is parsed).
    if (name !== 'https' && name !== 'http') {
      throw configInvalid(`Trusted host ${shown}: only https hosts can be trusted.`);
    }
    protocol = name === 'http' ? 'http:' : 'https:';
    text = text.slice(scheme[0].length).replace(/\/$/, '');
  }
  // eslint-disable-next-line no-control-regex
  if (/[/\\?#@%\s\u0000-\u001f\u007f]/.test(text)) {
    throw configInvalid(
      `Trusted host ${shown} is not a host: write the host name only, without path, query, user name or percent-encoding.`,
    );
  }
  let includeSubdomains = false;
  if (text.startsWith('*.')) {
    includeSubdomains = true;
    text = text.slice(2);
  } else if (text.startsWith('.')) {
    includeSubdomains = true;
    text = text.slice(1);
  }
  if (text.includes('*')) {
    throw configInvalid(
      `Trusted host ${shown}: a wildcard is allowed only as a leading "*." (for all subdomains).`,
    );
  }
  let url: URL;
  try {
    url = new URL(`${protocol}//${text}`);
  } catch {
    throw configInvalid(`Trusted host ${shown} is not a valid host name.`);
  }
  const hostname = url.hostname;
  if (protocol === 'http:' && (!isLoopbackHostname(hostname) || includeSubdomains)) {
    throw configInvalid(`Trusted host ${shown}: plain http is allowed only for loopback hosts; use https.`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '') {
    throw configInvalid(`Trusted host ${shown} is not a host.`);
  }
  if (hasBadLabels(hostname)) {
    throw configInvalid(`Trusted host ${shown} has an empty label or a trailing dot; remove it.`);
  }
  if (includeSubdomains && isIpLiteral(hostname)) {
    throw configInvalid(
      `Trusted host ${shown}: IP addresses cannot have subdomains; list the address alone.`,
    );
  }
  if (includeSubdomains && !hostname.includes('.')) {
    throw configInvalid(`Trusted host ${shown}: a subdomain rule needs a domain with at least two labels.`);
  }
  return { scheme: protocol, hostname, port: effectivePort(url), includeSubdomains, reason: 'trusted' };
}
