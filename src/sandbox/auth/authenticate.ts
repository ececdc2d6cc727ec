import type { RequestContext } from '../http/request-context.js';
import type { AccessTokenRecord, TokenStore } from './token-store.js';

/** Who is calling, as a resource sees it. */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'invalid' }
  | { kind: 'user' | 'app' | 'server'; record: AccessTokenRecord; token: string };

/**
 * Resolves the request's token for one resource. `accepts` says which realms the resource trusts
 * (the portal, its hosting server, one federated server...). A token from another realm, an
 * expired or revoked one, or a referer-bound one sent without the same Referer is invalid (498):
 * §2, §4.
 */
export function identify(
  ctx: RequestContext,
  store: TokenStore,
  accepts: (record: AccessTokenRecord) => boolean,
): Caller {
  if (ctx.token === null) return { kind: 'anonymous' };
  const resolved = store.resolveAccess(ctx.token);
  if (resolved.status !== 'valid') return { kind: 'invalid' };
  const { record } = resolved;
  if (record.referer !== null && ctx.referer !== record.referer) return { kind: 'invalid' };
  if (!accepts(record)) return { kind: 'invalid' };
  return { kind: record.kind, record, token: ctx.token };
}
