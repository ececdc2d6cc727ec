import { notFound } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';
import { authorize } from './authorize.js';
import { generateToken } from './generate-token.js';
import { communitySelf, portalsSelf } from './identity.js';
import { portalInfo, portalRoot } from './portal-info.js';
import { revokeToken } from './revoke-token.js';
import { token } from './token-endpoint.js';

type Handler = (ctx: RequestContext, state: SandboxState) => Reply;

/** Routes below `/portal/sharing/rest` (matched case-insensitively, as IIS-hosted portals do). */
const REST_ROUTES: Record<string, Handler> = {
  '': portalRoot,
  '/info': portalInfo,
  '/generatetoken': generateToken,
  '/oauth2/authorize': authorize,
  '/oauth2/token': token,
  '/oauth2/revoketoken': revokeToken,
  '/community/self': communitySelf,
  '/portals/self': portalsSelf,
};

/** §10.1: the legacy `/sharing/oauth2/...` paths serve the same OAuth endpoints. */
const LEGACY_ROUTES: Record<string, Handler> = {
  '/oauth2/authorize': authorize,
  '/oauth2/token': token,
  '/oauth2/revoketoken': revokeToken,
};

/** Returns null when the path is not the portal's. */
export function routePortal(ctx: RequestContext, state: SandboxState): Reply | null {
  const path = ctx.path.toLowerCase();
  const handler =
    match(path, '/portal/sharing/rest', REST_ROUTES) ?? match(path, '/portal/sharing', LEGACY_ROUTES);
  if (handler !== undefined) return handler(ctx, state);
  if (path.startsWith('/portal')) return errorReply(notFound(), 'portal', state.quirks.httpErrorStatuses);
  return null;
}

function match(path: string, prefix: string, routes: Record<string, Handler>): Handler | undefined {
  if (path !== prefix && !path.startsWith(`${prefix}/`)) return undefined;
  return routes[path.slice(prefix.length)];
}
