import { z } from 'zod';
import { defaultFaults } from '../faults/default-faults.js';
import type { RequestContext } from '../http/request-context.js';
import { json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';

/**
 * Test-only control endpoints under `/__sandbox/` on the portal's origin. Nothing in the ArcGIS
 * API (info, portals/self, rest/info, catalogs) links to them, so a client under test can only
 * find them by guessing. They are neither logged nor subject to faults, so a test can always turn
 * faults off again.
 */
export const ADMIN_PREFIX = '/__sandbox';

const faultsPatch = z
  .object({
    latencyMs: z.number().int().min(0).max(60_000),
    rateLimitNext: z.number().int().min(0),
    rateLimitAsBody: z.boolean(),
    retryAfterSeconds: z.number().int().min(0).nullable(),
    serverErrorNext: z.number().int().min(0),
    serverErrorCode: z.union([z.literal(503), z.literal(504)]),
    dropNext: z.number().int().min(0),
    htmlNext: z.number().int().min(0),
    scope: z.enum(['all', 'services', 'portal']),
    pathIncludes: z.string(),
  })
  .partial()
  .strict();

const quirksPatch = z
  .object({
    httpErrorStatuses: z.boolean(),
    federatedAcceptsPortalToken: z.boolean(),
    revokeOnCodeReuse: z.boolean(),
    htmlWithoutF: z.boolean(),
  })
  .partial()
  .strict();

export function routeAdmin(ctx: RequestContext, state: SandboxState): Reply {
  const route = `${ctx.method} ${ctx.path.slice(ADMIN_PREFIX.length)}`;
  switch (route) {
    case 'GET /faults':
      return json(state.faults, 'service');
    case 'POST /faults':
      return patch(
        ctx,
        faultsPatch,
        (value) => Object.assign(state.faults, value),
        () => state.faults,
      );
    case 'POST /faults/reset':
      Object.assign(state.faults, defaultFaults());
      return json(state.faults, 'service');
    case 'GET /quirks':
      return json(state.quirks, 'service');
    case 'POST /quirks':
      return patch(
        ctx,
        quirksPatch,
        (value) => Object.assign(state.quirks, value),
        () => state.quirks,
      );
    case 'GET /requests':
      return json(state.requests, 'service');
    case 'POST /requests/clear':
      state.requests.length = 0;
      return json({ success: true }, 'service');
    case 'POST /expire-access-tokens':
      return json({ success: true, expired: state.store.expireAllAccess() }, 'service');
    case 'POST /revoke-all':
      return json({ success: true, revoked: state.store.revokeAllRefresh() }, 'service');
    default:
      return {
        kind: 'json',
        status: 404,
        body: { error: `unknown admin route: ${route}` },
        flavour: 'service',
      };
  }
}

function patch<T>(
  ctx: RequestContext,
  schema: z.ZodType<T>,
  apply: (value: T) => void,
  current: () => unknown,
): Reply {
  let body: unknown;
  try {
    body = ctx.bodyText.trim() === '' ? {} : JSON.parse(ctx.bodyText);
  } catch {
    return { kind: 'json', status: 400, body: { error: 'body must be JSON' }, flavour: 'service' };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'json', status: 400, body: { error: z.prettifyError(parsed.error) }, flavour: 'service' };
  }
  apply(parsed.data);
  return json(current(), 'service');
}
