import type { TokenStore } from './auth/token-store.js';
import type { RequestContext } from './http/request-context.js';
import type { RecordedRequest, TokenKind } from './types.js';

/**
 * One log entry per request, for security tests: where a token travelled and what kind it was,
 * never its value. Parameter names are kept (a client_secret or password in a query string shows
 * up as a key), values are not.
 */
export function recordRequest(ctx: RequestContext, store: TokenStore, now: number): RecordedRequest {
  const entry: RecordedRequest = {
    time: now,
    method: ctx.method,
    origin: ctx.origin,
    path: ctx.rawPath,
    queryKeys: [...new Set(ctx.query.keys())],
    bodyKeys: [...new Set(ctx.body.keys())],
    tokenIn: ctx.tokenIn,
    tokenKind: tokenKind(ctx, store),
  };
  if (ctx.referer !== undefined) entry.referer = ctx.referer;
  return entry;
}

function tokenKind(ctx: RequestContext, store: TokenStore): TokenKind {
  if (ctx.token === null) return 'none';
  const resolved = store.resolveAccess(ctx.token);
  return resolved.status === 'valid' ? resolved.record.kind : 'invalid';
}
