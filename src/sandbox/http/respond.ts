import type { ServerResponse } from 'node:http';
import type { RequestContext } from './request-context.js';
import { param } from './request-context.js';
import type { ErrorBody } from '../errors.js';

/** §1: portal and token endpoints say text/plain; hosted services say application/json. */
export type ContentFlavour = 'portal' | 'service';

const CONTENT_TYPES: Record<ContentFlavour, string> = {
  portal: 'text/plain;charset=utf-8',
  service: 'application/json;charset=utf-8',
};

/** What a handler returns; the server writes it. Keeps handlers pure and testable. */
export type Reply =
  | { kind: 'json'; status: number; body: unknown; flavour: ContentFlavour; headers?: Record<string, string> }
  | { kind: 'html'; status: number; html: string; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string }
  | { kind: 'drop' };

export function json(body: unknown, flavour: ContentFlavour = 'portal'): Reply {
  return { kind: 'json', status: 200, body, flavour };
}

/**
 * §1, §2: errors come back as HTTP 200 with the envelope; §10.2: a switch sends the code as the
 * real status instead (only when it is a valid HTTP status).
 */
export function errorReply(body: ErrorBody, flavour: ContentFlavour, httpErrorStatuses: boolean): Reply {
  const code = body.error.code;
  const status = httpErrorStatuses && code >= 400 && code <= 599 ? code : 200;
  return { kind: 'json', status, body, flavour };
}

export function html(markup: string, status = 200): Reply {
  return { kind: 'html', status, html: markup };
}

export function redirect(location: string): Reply {
  return { kind: 'redirect', location };
}

/** Writes a reply. `f=pjson` pretty-prints (§1, §10.1). */
export function writeReply(ctx: RequestContext | null, res: ServerResponse, reply: Reply): void {
  switch (reply.kind) {
    case 'drop':
      res.socket?.destroy();
      return;
    case 'redirect':
      // Cache-Control: no-store because the Location carries a one-time code (RFC 6749 §5.1 spirit).
      res.writeHead(302, { Location: reply.location, 'Cache-Control': 'no-store', 'Content-Length': '0' });
      res.end();
      return;
    case 'html': {
      const buf = Buffer.from(reply.html, 'utf8');
      res.writeHead(reply.status, {
        'Content-Type': 'text/html;charset=utf-8',
        'Content-Length': String(buf.length),
        'Cache-Control': 'no-store',
        // Sign-in pages load nothing from elsewhere and cannot be framed.
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ...reply.headers,
      });
      res.end(buf);
      return;
    }
    case 'json': {
      const pretty = ctx !== null && param(ctx, 'f') === 'pjson';
      const text = pretty ? JSON.stringify(reply.body, null, 2) : JSON.stringify(reply.body);
      const buf = Buffer.from(text, 'utf8');
      res.writeHead(reply.status, {
        'Content-Type': CONTENT_TYPES[reply.flavour],
        'Content-Length': String(buf.length),
        'Cache-Control': 'no-store',
        ...reply.headers,
      });
      res.end(buf);
      return;
    }
  }
}
