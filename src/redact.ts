/**
 * SEC-REDACT: the one redactor for logs and errors. Two layers:
 *
 * 1. Registered secrets. Whoever holds a live secret (access token, refresh token, PKCE verifier,
 *    OAuth code, password, client secret) registers it; every later redaction replaces it verbatim
 *    (and in its URL/form-encoded spellings) wherever it appears, even where no pattern would look.
 * 2. Patterns for secrets we never saw: `token=` and friends in query strings and form bodies,
 *    `"token":"..."` in JSON, `token: '...'` in `util.inspect` output, `Bearer <x>`, and
 *    `Authorization` / `X-Esri-Authorization` header values.
 *
 * ArcGIS tokens may contain `.`, `-`, `_`, `~`, `+`, `/`, `=` and may end with `.`
 * (arcgis-protocol.md §1), so values are matched up to a delimiter, never by a token alphabet.
 */

export const REDACTED = '[REDACTED]';

const MIN_SECRET_LENGTH = 8;
const MAX_SECRETS = 1000;

/** Insertion-ordered, so the oldest entry is evicted first once the bound is reached. */
const secrets = new Map<string, readonly string[]>();
/** Spellings of all registered secrets, longest first (a short secret inside a long one must not split it). */
let spellings: string[] = [];

function rebuildSpellings(): void {
  const all = new Set<string>();
  for (const forms of secrets.values()) for (const form of forms) all.add(form);
  spellings = [...all].sort((a, b) => b.length - a.length);
}

/** The secret as written, URL-encoded (`+` → `%2B`) and form-encoded (`~` → `%7E`, space → `+`). */
function spellingsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(encodeURIComponent(value));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/**
 * Registers a live secret so every later redaction replaces it verbatim. Values shorter than 8
 * characters are ignored (they would redact ordinary words). The set is bounded (last 1000).
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  secrets.delete(value); // re-registering refreshes its place in the eviction order
  secrets.set(value, spellingsOf(value));
  while (secrets.size > MAX_SECRETS) {
    const oldest = secrets.keys().next();
    if (oldest.done) break;
    secrets.delete(oldest.value);
  }
  rebuildSpellings();
}

export function forgetSecret(value: string): void {
  if (secrets.delete(value)) rebuildSpellings();
}

// ---------------------------------------------------------------------------------------------
// Key names

/** Parameter / JSON key names whose values are secrets (matched case-insensitively, whole name). */
const SECRET_PARAM_NAMES = [
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'serverToken',
  'code',
  'code_verifier',
  'client_secret',
  'password',
  'api_key',
  'apiKey',
];

/** Header names whose whole value is a credential. */
const SECRET_HEADER_NAMES = new Set([
  'authorization',
  'x-esri-authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
]);

/** `code` is also the name of every error code (`"code":498`, `code: 'ARCGIS_TOKEN_INVALID'`). */
function isHarmlessCode(value: string): boolean {
  return /^(?:-?\d{1,6}|[A-Z][A-Z0-9_]*|)$/.test(value);
}

/** Normalised key (`X-Esri-Authorization` → `xesriauthorization`, `refresh_token` → `refreshtoken`). */
function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const SECRET_KEY_EXACT = new Set([
  'code',
  'authorization',
  'xesriauthorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'xapikey',
  'passwd',
]);
const SECRET_KEY_SUFFIXES = ['token', 'secret', 'password', 'verifier', 'apikey'];

/** True for object keys that name a secret: `token`, `accessToken`, `refresh_token`, `clientSecret`, ... */
export function isSecretKey(key: string): boolean {
  const k = normaliseKey(key);
  return SECRET_KEY_EXACT.has(k) || SECRET_KEY_SUFFIXES.some((s) => k.endsWith(s));
}

// ---------------------------------------------------------------------------------------------
// Patterns

const KEYS = SECRET_PARAM_NAMES.join('|');
/** In JSON and `util.inspect` output, header objects appear too (`{"authorization":"..."}`). */
const VALUE_KEYS = [...SECRET_PARAM_NAMES, ...SECRET_HEADER_NAMES].join('|');

/**
 * `key=value` in a query string or form body, also when the URL is itself percent-encoded inside
 * another parameter (`key%3Dvalue`, ended by `%26`). The value runs to the next delimiter.
 */
const QUERY_PARAM = new RegExp(
  `(?:(?<![A-Za-z0-9_.-])|(?<=%3F|%26))(${KEYS})(=|%3D)(?!\\[REDACTED\\])((?:(?!%26)[^&\\s"'<>#,;\\\\)\\]}])*)`,
  'gi',
);
/** `"key": "value"` in JSON text (escaped quotes inside the value are handled). */
const JSON_STRING = new RegExp(`("(?:${VALUE_KEYS})"\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`, 'gi');
/** `"key": "value"` with escaped quotes: JSON that was itself JSON-encoded (`\"token\":\"x\"`). */
const JSON_ESCAPED = new RegExp(
  `(\\\\"(?:${VALUE_KEYS})\\\\"\\s*:\\s*)\\\\"((?:(?!\\\\")[^\\n])*)\\\\"`,
  'gi',
);
/** `key: 'value'` as printed by `util.inspect`. */
const INSPECT_STRING = new RegExp(
  `((?<![A-Za-z0-9_-])'?(?:${VALUE_KEYS})'?\\s*:\\s*)'((?:[^'\\\\]|\\\\.)*)'`,
  'gi',
);
/** `Authorization: [<scheme>] <credential>` header text (the scheme goes too: it may be custom). */
const AUTH_HEADER =
  /((?<![A-Za-z0-9-])(?:x-esri-authorization|proxy-authorization|authorization|x-api-key)\s*:\s*)(?!\[REDACTED\])((?:[A-Za-z]+\s+)?[^\s"'<>,;\\]+)/gi;
/** `Cookie: ...` / `Set-Cookie: ...`: several values, so everything to the end of the line or quote. */
const COOKIE_HEADER = /((?<![A-Za-z0-9-])(?:set-cookie|cookie)\s*:\s*)(?!\[REDACTED\])([^\r\n"']+)/gi;
/** `Bearer <token>` / `Basic <credentials>` anywhere. */
const AUTH_SCHEME = /\b(Bearer|Basic)(\s+)(?!\[REDACTED\])([^\s"'<>,;\\]+)/gi;

function keep(key: string, value: string): boolean {
  return value === REDACTED || (key.toLowerCase() === 'code' && isHarmlessCode(value));
}

/** Redacts registered secrets and secret-shaped patterns; replacement text `[REDACTED]`. */
export function redactText(text: string): string {
  let out = text;
  for (const s of spellings) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  out = out.replace(JSON_STRING, (m, prefix: string, value: string) => {
    const key = prefix.slice(1, prefix.indexOf('"', 1));
    return keep(key, value) ? m : `${prefix}"${REDACTED}"`;
  });
  out = out.replace(JSON_ESCAPED, (m, prefix: string, value: string) => {
    const key = prefix.slice(2, prefix.indexOf('\\', 2));
    return keep(key, value) ? m : `${prefix}\\"${REDACTED}\\"`;
  });
  out = out.replace(INSPECT_STRING, (m, prefix: string, value: string) => {
    const key = prefix.replace(/\s*:\s*$/, '').replace(/'/g, '');
    return keep(key, value) ? m : `${prefix}'${REDACTED}'`;
  });
  out = out.replace(QUERY_PARAM, (m, key: string, eq: string, value: string) =>
    value === '' || keep(key, value) ? m : `${key}${eq}${REDACTED}`,
  );
  out = out.replace(AUTH_HEADER, (_m, prefix: string) => `${prefix}${REDACTED}`);
  out = out.replace(COOKIE_HEADER, (_m, prefix: string) => `${prefix}${REDACTED}`);
  out = out.replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  return out;
}

/** A URL safe to log or show: secret parameters and userinfo replaced, registered secrets removed. */
export function redactUrl(url: string | URL): string {
  let text: string;
  if (typeof url === 'string') {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    text = parsed && (parsed.username || parsed.password) ? withoutUserinfo(parsed) : url;
  } else {
    text = url.username || url.password ? withoutUserinfo(url) : url.href;
  }
  return redactText(text);
}

function withoutUserinfo(u: URL): string {
  return `${u.protocol}//${REDACTED}@${u.host}${u.pathname}${u.search}${u.hash}`;
}

/** Headers safe to log: credential headers replaced whole, the rest through `redactText`. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    out[name] = SECRET_HEADER_NAMES.has(name.toLowerCase()) ? REDACTED : redactText(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

const MAX_DEPTH = 12;

/**
 * Deep-redacts any value into a JSON-safe structure: keys named like secrets get `[REDACTED]`
 * (when they hold a string or an object; booleans such as `needsToken: true` stay), every string
 * goes through `redactText`, Errors become `{name, code, message, ...}` without their context,
 * cycles become `[Circular]`.
 */
export function redactValue(value: unknown): unknown {
  return redactInner(value, new WeakSet<object>(), 0);
}

function redactInner(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return redactText(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return undefined;
    case 'symbol':
      return redactText(value.toString());
    case 'function':
      return `[Function ${redactText(value.name || 'anonymous')}]`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (obj instanceof URL) return redactUrl(obj);
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (obj instanceof RegExp) return redactText(obj.toString());
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `[Binary ${obj.byteLength} bytes]`;
  if (seen.has(obj)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(obj);
  try {
    if (obj instanceof Error) return redactError(obj, seen, depth);
    if (typeof Headers !== 'undefined' && obj instanceof Headers) {
      return redactHeaders(Object.fromEntries(obj.entries()));
    }
    if (Array.isArray(obj)) {
      return obj.map((item) => {
        const r = redactInner(item, seen, depth + 1);
        return r === undefined ? null : r;
      });
    }
    if (obj instanceof Set) return [...obj].map((item) => redactInner(item, seen, depth + 1) ?? null);
    const entries: [string, unknown][] =
      obj instanceof Map ? [...obj.entries()].map(([k, v]) => [String(k), v]) : Object.entries(obj);
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const safeKey = redactText(key);
      const r = redactEntry(key, item, seen, depth);
      if (r !== undefined) out[safeKey] = r;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

function redactEntry(key: string, item: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (isSecretKey(key)) {
    if (typeof item === 'string') {
      if (normaliseKey(key) === 'code' && isHarmlessCode(item)) return item;
      return item === '' ? '' : REDACTED;
    }
    if (typeof item === 'object' && item !== null) return REDACTED;
  }
  return redactInner(item, seen, depth + 1);
}

/** Fields of an Error worth logging. `context` (request URL, ArcGIS body) is deliberately left out. */
const ERROR_FIELDS = ['code', 'nextStep', 'arcgisCode', 'messageCode', 'httpStatus', 'retryAfterSeconds'];

function redactError(err: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: redactText(String(err.name)),
    message: redactText(err.message),
  };
  const record = err as unknown as Record<string, unknown>;
  for (const field of ERROR_FIELDS) {
    const v = record[field];
    if (typeof v === 'string') out[field] = redactText(v);
    else if (typeof v === 'number' && Number.isFinite(v)) out[field] = v;
  }
  // The cause of a network failure (ECONNREFUSED, ENOTFOUND) is useful; summarise it the same way.
  const cause: unknown = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && !seen.has(cause) && depth < 3) {
    seen.add(cause);
    try {
      out['cause'] = redactError(cause, seen, depth + 1);
    } finally {
      seen.delete(cause);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Untrusted text

/**
 * C0/C1 controls, and the invisible characters that reorder or hide text (bidi overrides and
 * isolates, zero-width characters, BOM): stripped so ArcGIS-supplied text cannot rewrite what the
 * model or the user sees around it.
 */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const LINE_BREAKS = /[\t\n\r\u2028\u2029]+/g;
const TRUNCATED = '…(truncated)';

/**
 * SEC-UNTRUSTED-DATA: text from ArcGIS (error messages, item descriptions, attribute values) shown
 * to the model. Control characters removed (line breaks become a space), secrets redacted, length
 * capped (default 500 characters, then `…(truncated)`), and the result JSON-quoted so it reads as
 * data, never as instructions.
 */
export function quoteUntrusted(text: string, maxLength = 500): string {
  const limit = Number.isFinite(maxLength) ? Math.max(0, Math.floor(maxLength)) : 500;
  let clean = redactText(String(text).replace(LINE_BREAKS, ' ').replace(INVISIBLE, ''));
  const chars = Array.from(clean); // by code point: never split a surrogate pair
  if (chars.length > limit) clean = chars.slice(0, limit).join('') + TRUNCATED;
  return JSON.stringify(clean);
}
