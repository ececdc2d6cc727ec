import type { IncomingMessage, ServerResponse } from 'node:http';
import { STYLE_HASH_SOURCE } from './html.js';

/**
 * Which page a response belongs to decides two headers:
 * - `callback` (and every error and redirect): `Referrer-Policy: no-referrer`, no forms at all.
 * - `sign-in`: the page with forms. `Referrer-Policy: same-origin`, because under `no-referrer` a
 *   browser sends `Origin: null` on form POSTs (Fetch §3.1 "serializing a request origin"), which
 *   would make the Origin check below useless; `same-origin` still sends no referrer to any other
 *   origin, so the page id never leaves 127.0.0.1.
 */
export type ResponseKind = 'callback' | 'sign-in';

/**
 * AUTH-LOOPBACK: no caching, no referrer, nothing loaded from anywhere (the only stylesheet is
 * inline and allowed by hash), no framing (clickjacking), no MIME sniffing.
 */
export function securityHeaders(kind: ResponseKind): Record<string, string> {
  const formAction = kind === 'sign-in' ? "'self'" : "'none'";
  return {
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'Referrer-Policy': kind === 'sign-in' ? 'same-origin' : 'no-referrer',
    'Content-Security-Policy': `default-src 'none'; style-src ${STYLE_HASH_SOURCE}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // One request per connection: the server can close promptly after the sign-in finishes.
    Connection: 'close',
  };
}

export function sendHtml(res: ServerResponse, status: number, html: string, kind: ResponseKind): void {
  res.writeHead(status, {
    ...securityHeaders(kind),
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(html)),
  });
  res.end(html);
}

/** Short plain-text answers (404, 405, 403, 413, ...): no hint beyond the status. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    ...securityHeaders('callback'),
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { ...securityHeaders('callback'), Location: location, 'Content-Length': '0' });
  res.end();
}

/**
 * DNS-rebinding defence: a page on `evil.example` that resolves to 127.0.0.1 still sends
 * `Host: evil.example:PORT`. Only the exact `127.0.0.1:PORT` we listen on is served (MCP spec
 * 2025-11-25, transports: "validate the Origin header ... bind only to localhost").
 */
export function hasExpectedHost(req: IncomingMessage, expectedHost: string): boolean {
  const host = req.headers.host;
  return typeof host === 'string' && host.toLowerCase() === expectedHost;
}

/**
 * OWASP CSRF Prevention Cheat Sheet, "Verifying origin with standard headers" and "Fetch Metadata
 * headers": a state-changing request is refused when the browser says it came from elsewhere.
 * Absent headers are allowed (old browsers, scripts); the CSRF token still has to match.
 * `Sec-Fetch-Site: none` means the user started it (typed URL, bookmark, reload).
 */
export function isCrossOriginRequest(req: IncomingMessage, origin: string): boolean {
  const from = req.headers.origin;
  if (from !== undefined && from !== origin) return true;
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}
