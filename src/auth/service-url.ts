import { ArcGisMcpError } from '../errors.js';
import { isSecretKey, quoteUntrusted, registerSecret } from '../redact.js';

/**
 * URL text from the user or the model, parsed once with the WHATWG parser (never matched with
 * regular expressions over the whole URL, security.md NET-ALLOWLIST), and ArcGIS REST service URLs
 * taken apart (arcgis-protocol.md §1, §8, §11).
 */

const MAX_URL_LENGTH = 8192;
const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Loopback hosts, the only ones where plain http is accepted (product.md): `127.0.0.0/8`, `::1`
 * (bare or bracketed, as `URL.hostname` spells it) and `localhost`. IPv4-mapped IPv6 and
 * `*.localhost` are not included: nothing legitimate needs them and they widen the rule.
 */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]') return true;
  const m = IPV4_LOOPBACK.exec(h);
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255);
}

function invalidUrl(message: string, nextStep: string): ArcGisMcpError {
  return new ArcGisMcpError('ARCGIS_INVALID_URL', message, { nextStep });
}

/** The input as it may appear in an error message: secrets redacted, length-capped, quoted. */
function shown(input: string): string {
  return quoteUntrusted(input, 200);
}

/**
 * Parses user/model-supplied URL text. Surrounding whitespace and the fragment (never sent to a
 * server) are dropped; nothing else is changed. Throws `ARCGIS_INVALID_URL` with a next step when
 * the text is not an absolute URL, contains control characters, uses a scheme other than https
 * (http only for loopback hosts), carries userinfo (`user@host`), or names a host with a trailing
 * dot. Secret-looking query parameters (a pasted `token=`) are registered with the redactor so
 * they never reach a log, but they are not removed here: callers that build requests drop them.
 */
export function parseHttpUrl(input: string): URL {
  const text = typeof input === 'string' ? input.trim() : '';
  if (text === '') {
    throw invalidUrl('The URL is empty.', 'Give a full URL starting with https://.');
  }
  if (text.length > MAX_URL_LENGTH) {
    throw invalidUrl(
      `The URL is ${text.length} characters long; at most ${MAX_URL_LENGTH} are accepted.`,
      'Give the service or layer URL without query parameters.',
    );
  }
  // The WHATWG parser silently deletes tabs and newlines inside a URL; text that needs that is
  // not a URL someone meant, so refuse it rather than guess.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw invalidUrl(
      'The URL contains control characters (line breaks, tabs).',
      'Give the URL on one line, exactly as copied from the browser.',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const hint = /^[a-z0-9.-]+\.[a-z]{2,}(?:[:/]|$)/i.test(text)
      ? `Add the scheme: https://${text.length > 100 ? '…' : text}`
      : 'Give a full URL starting with https://, e.g. https://services1.arcgis.com/<orgId>/arcgis/rest/services/<name>/FeatureServer/0.';
    throw invalidUrl(`${shown(text)} is not a valid absolute URL.`, hint);
  }
  for (const [key, value] of url.searchParams) {
    if (isSecretKey(key)) registerSecret(value);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidUrl(
      `The URL scheme ${JSON.stringify(url.protocol)} is not supported; only https:// URLs are accepted.`,
      'Give an https:// URL.',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidUrl(
      'The URL contains a user name or password before the host (user@host). Credentials never go in URLs, and such URLs are a common way to disguise the real host.',
      `Remove everything between "//" and "@"; the host of this URL is ${JSON.stringify(url.hostname)}.`,
    );
  }
  if (url.hostname === '') {
    throw invalidUrl(`${shown(text)} has no host.`, 'Give a full URL starting with https://.');
  }
  if (url.hostname.endsWith('.') || url.hostname.includes('..')) {
    throw invalidUrl(
      `The host ${JSON.stringify(url.hostname)} has an empty label or a trailing dot.`,
      `Write the host without the trailing dot (${JSON.stringify(url.hostname.replace(/\.+$/, ''))}).`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) {
    throw invalidUrl(
      `Plain http:// is accepted only for loopback hosts (127.0.0.1, ::1, localhost); ${JSON.stringify(url.hostname)} must use https://.`,
      `Use https://${url.host}${url.pathname === '/' ? '' : url.pathname}.`,
    );
  }
  url.hash = '';
  return url;
}

export type ServiceType = 'FeatureServer' | 'MapServer';

export interface ServiceUrlParts {
  /** The layer or table (`.../FeatureServer/0`), or the service root when no layer id was given. No query. */
  layerUrl: URL;
  /** `.../FeatureServer` or `.../MapServer`. */
  serviceRoot: URL;
  /** Everything before `/rest/services/` (arcgis-protocol.md §11): `https://host/arcgis`. */
  serverRoot: URL;
  layerId: number | null;
  serviceType: ServiceType;
}

const EXAMPLE =
  'A feature layer URL looks like https://<server>/<path>/rest/services/[<folder>/]<name>/FeatureServer/<layer id>, e.g. https://services1.arcgis.com/<orgId>/arcgis/rest/services/Parcels/FeatureServer/0 (MapServer layers work too).';

function notAService(why: string, nextStep?: string): ArcGisMcpError {
  return new ArcGisMcpError('ARCGIS_NOT_A_SERVICE', `${why} ${EXAMPLE}`, {
    nextStep:
      nextStep ??
      'Ask the user for the layer URL (in ArcGIS Online: open the item page and copy the "URL" shown under the layer), or use a search tool to find the layer.',
  });
}

const SERVICE_TYPES: Record<string, ServiceType> = { featureserver: 'FeatureServer', mapserver: 'MapServer' };

/**
 * Recognises ArcGIS REST layer, table and service URLs:
 * `.../rest/services/[folder/]Name/FeatureServer[/<id>][/query]` (also MapServer).
 * A trailing `/query`, the query string (`?f=json`, a pasted `token=`) and the fragment are
 * dropped: a token found in a pasted URL is never reused, only registered for redaction.
 * Throws `ARCGIS_INVALID_URL` for text that is not an acceptable URL and `ARCGIS_NOT_A_SERVICE`
 * when the path is not a service URL.
 */
export function parseServiceUrl(input: string): ServiceUrlParts {
  const url = parseHttpUrl(input);
  // pathname is already percent-encoded and dot-segment-resolved by the WHATWG parser.
  const segments = url.pathname.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  const lower = segments.map((s) => s.toLowerCase());

  let restAt = -1;
  for (let i = 0; i + 1 < lower.length; i++) {
    if (lower[i] === 'rest' && lower[i + 1] === 'services') {
      restAt = i;
      break;
    }
  }
  if (restAt < 0) {
    if (lower.includes('sharing') || lower.includes('home') || url.searchParams.has('id')) {
      throw notAService(
        'This looks like a portal or item page, not a service URL.',
        'Open the item in the portal and copy the layer URL shown on its page (it contains /rest/services/), then try again.',
      );
    }
    throw notAService('The URL path has no /rest/services/ part, so it is not an ArcGIS REST service URL.');
  }

  let typeAt = -1;
  for (let i = restAt + 2; i < lower.length; i++) {
    if (SERVICE_TYPES[lower[i] ?? ''] !== undefined) {
      typeAt = i;
      break;
    }
  }
  if (typeAt < 0) {
    const other = lower.slice(restAt + 2).find((s) => /server$/.test(s));
    throw notAService(
      other
        ? `This is a ${segments[lower.indexOf(other)] ?? other} URL; only FeatureServer and MapServer layers can be queried.`
        : 'The URL points at a services folder or directory, not at a FeatureServer or MapServer service.',
    );
  }
  const nameSegments = segments.slice(restAt + 2, typeAt);
  if (nameSegments.length === 0 || nameSegments.some((s) => s === '')) {
    throw notAService('The URL has no service name between /rest/services/ and the service type.');
  }
  const serviceType = SERVICE_TYPES[lower[typeAt] ?? ''] as ServiceType;

  const tail = lower.slice(typeAt + 1);
  if (tail[tail.length - 1] === 'query') tail.pop();
  let layerId: number | null = null;
  if (tail.length === 1 && /^\d{1,9}$/.test(tail[0] ?? '')) {
    layerId = Number(tail[0]);
  } else if (tail.length > 0) {
    throw notAService(
      `The part after /${serviceType}/ (${quoteUntrusted(segments.slice(typeAt + 1).join('/'), 80)}) is not a layer id.`,
    );
  }

  const origin = url.origin;
  const serverPath = segments.slice(0, restAt).join('/');
  const rootPath = [...segments.slice(0, typeAt), serviceType].join('/');
  const serverRoot = new URL(`${origin}/${serverPath}`);
  const serviceRoot = new URL(`${origin}/${rootPath}`);
  const layerUrl = new URL(layerId === null ? serviceRoot.href : `${serviceRoot.href}/${layerId}`);
  return { layerUrl, serviceRoot, serverRoot, layerId, serviceType };
}
