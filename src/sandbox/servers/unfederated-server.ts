import { findUser } from '../directory.js';
import { badRequest, unableToGenerateToken } from '../errors.js';
import type { ArcGisServer } from '../features/feature-router.js';
import type { ServiceDef } from '../features/layer-types.js';
import { param } from '../http/request-context.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import { normalizeRoot } from '../state.js';
import type { SandboxState } from '../state.js';

export const UNFEDERATED_ROOT_PATH = '/arcgis';

/**
 * Enterprise: a stand-alone ArcGIS Server with its own token service (`/arcgis/tokens/generateToken`)
 * and no owningSystemUrl (§5, §11: a client must not send it the portal token; any portal token is
 * 498 here). Its identity store holds the same accounts as the portal (as when both use one LDAP);
 * the SAML user has no password here either.
 */
export function unfederatedServer(services: ServiceDef[]): ArcGisServer {
  return {
    rootPath: UNFEDERATED_ROOT_PATH,
    services,
    errorFlavour: 'server',
    accepts: (record, state) =>
      state.urls.unfederatedRoot !== null && record.realm === normalizeRoot(state.urls.unfederatedRoot),
    info: (state) => ({
      currentVersion: 11.1,
      fullVersion: '11.1.0',
      authInfo: {
        isTokenBasedSecurity: true,
        tokenServicesUrl: `${state.urls.unfederatedRoot ?? ''}/tokens/generateToken`,
        shortLivedTokenValidity: 60,
      },
    }),
    extraRoutes: { '/tokens/generatetoken': serverGenerateToken },
  };
}

/** ArcGIS Server's own generateToken: username/password only, tokens valid at this server only. */
function serverGenerateToken(ctx: RequestContext, state: SandboxState): Reply {
  const fail = (body: Parameters<typeof errorReply>[0]): Reply =>
    errorReply(body, 'portal', state.quirks.httpErrorStatuses);
  if (ctx.method !== 'POST')
    return fail(badRequest('Unable to generate token.', ['generateToken requires POST.']));
  const user = findUser(param(ctx, 'username') ?? '');
  if (user === undefined || !user.canUseGenerateToken || user.password !== param(ctx, 'password')) {
    return fail(unableToGenerateToken());
  }
  let referer: string | null = null;
  if (param(ctx, 'client') === 'referer') {
    referer = param(ctx, 'referer') ?? '';
    if (referer === '') return fail(badRequest('Unable to generate token.', ['Referer is required.']));
  }
  const minutes = Number(param(ctx, 'expiration'));
  const seconds = Math.round((Number.isFinite(minutes) && minutes > 0 ? Math.min(minutes, 21600) : 60) * 60);
  const { token, record } = state.store.issueAccess(
    {
      kind: 'server',
      realm: normalizeRoot(state.urls.unfederatedRoot ?? ''),
      username: user.username,
      clientId: null,
      refreshToken: null,
      referer,
      source: 'server',
    },
    seconds,
  );
  return json({ token, expires: record.expiresAt, ssl: false });
}
