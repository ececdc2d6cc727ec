import { identify } from '../auth/authenticate.js';
import type { AccessTokenRecord } from '../auth/token-store.js';
import { forbidden, invalidQuery, invalidToken, notFound, tokenRequired } from '../errors.js';
import type { ErrorBody } from '../errors.js';
import { param } from '../http/request-context.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';
import type { ServiceDef } from './layer-types.js';
import { runQuery } from './query.js';
import { QueryError } from './query-error.js';
import { layerJson, serviceJson } from './service-json.js';

/** One emulated ArcGIS Server (the portal's hosting server, a federated one, an unfederated one). */
export interface ArcGisServer {
  /** Path of the server root on its listener: `/<orgId>/arcgis`, `/server`, `/arcgis`. */
  rootPath: string;
  services: ServiceDef[];
  /** §2: hosted services say "Invalid token.", ArcGIS Server "Invalid Token". */
  errorFlavour: 'portal' | 'server';
  /** Which tokens this server trusts (realms, §4/§11). */
  accepts: (record: AccessTokenRecord, state: SandboxState) => boolean;
  /** `{root}/rest/info` (§5). */
  info: (state: SandboxState) => Record<string, unknown>;
  /** Extra routes below the root, e.g. `/tokens/generateToken` on an unfederated server. */
  extraRoutes?: Record<string, (ctx: RequestContext, state: SandboxState) => Reply>;
}

const SERVICE_PATH = /^\/rest\/services\/([^/]+)\/featureserver(?:\/(\d+)(\/query)?)?$/i;

/** Returns null when the path is not below this server's root. */
export function routeServer(ctx: RequestContext, state: SandboxState, server: ArcGisServer): Reply | null {
  const root = server.rootPath.toLowerCase();
  const lower = ctx.path.toLowerCase();
  if (lower !== root && !lower.startsWith(`${root}/`)) return null;
  const rest = ctx.path.slice(server.rootPath.length);
  const fail = (body: ErrorBody): Reply => errorReply(body, 'service', state.quirks.httpErrorStatuses);

  const extra = server.extraRoutes?.[rest.toLowerCase()];
  if (extra !== undefined) return extra(ctx, state);
  if (rest.toLowerCase() === '/rest/info') return json(server.info(state), 'service');
  if (rest.toLowerCase() === '/rest/services') {
    return json(
      {
        currentVersion: 11.3,
        folders: [],
        services: server.services.map((s) => ({ name: s.name, type: 'FeatureServer' })),
      },
      'service',
    );
  }

  const match = SERVICE_PATH.exec(rest);
  if (match === null) return fail(notFound());
  const [, name = '', layerId, isQuery] = match;
  const service = server.services.find((s) => s.name.toLowerCase() === name.toLowerCase());
  if (service === undefined) return fail(notFound());

  const denied = checkAccess(ctx, state, server, service);
  if (denied !== null) return fail(denied);

  if (layerId === undefined) return json(serviceJson(service), 'service');
  const layer = service.layers.find((l) => l.id === Number(layerId));
  if (layer === undefined) return fail(notFound());
  if (isQuery === undefined) return json(layerJson(layer), 'service');
  try {
    return json(
      runQuery(layer, (key) => param(ctx, key)),
      'service',
    );
  } catch (error) {
    if (error instanceof QueryError) return fail(invalidQuery(error.detail));
    throw error;
  }
}

/**
 * §2, §6, §10.7: a bad token is 498 everywhere, public services included; org content needs a
 * token (499) that carries a user (app tokens: 403).
 */
function checkAccess(
  ctx: RequestContext,
  state: SandboxState,
  server: ArcGisServer,
  service: ServiceDef,
): ErrorBody | null {
  const caller = identify(ctx, state.store, (record) => server.accepts(record, state));
  if (caller.kind === 'invalid') return invalidToken(server.errorFlavour);
  if (service.access === 'public') return null;
  if (caller.kind === 'anonymous') return tokenRequired();
  if (caller.kind === 'app' || caller.record.username === null) return forbidden();
  return null;
}
