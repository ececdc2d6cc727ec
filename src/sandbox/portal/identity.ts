import { identify } from '../auth/authenticate.js';
import { PORTAL_REALM } from '../auth/token-store.js';
import { APP, ORG_ID, ORG_NAME, ROLE_IDS, ROLE_PRIVILEGES, URL_KEY, findUser } from '../directory.js';
import type { SandboxUser } from '../directory.js';
import { forbidden, invalidToken } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';

/** A fixed creation date so answers are stable across runs. */
const CREATED = Date.UTC(2021, 2, 14);

/** Only portal-realm tokens mean anything at the portal; a server token is valid at its server only (§4). */
const portalTokens = { accepts: (r: { realm: string }) => r.realm === PORTAL_REALM };

/** `community/self` (§5): the user behind a user token; app or no token: no identity, modelled as 403 [U]. */
export function communitySelf(ctx: RequestContext, state: SandboxState): Reply {
  const caller = identify(ctx, state.store, portalTokens.accepts);
  const http = state.quirks.httpErrorStatuses;
  if (caller.kind === 'invalid') return errorReply(invalidToken(), 'portal', http);
  if (caller.kind !== 'user' || caller.record.username === null)
    return errorReply(forbidden(), 'portal', http);
  const user = findUser(caller.record.username);
  if (user === undefined) return errorReply(invalidToken(), 'portal', http);
  return json(userJson(user));
}

/** `portals/self` (§5): the org; `user{}` for user tokens, `appInfo{}` for app tokens, neither anonymously. */
export function portalsSelf(ctx: RequestContext, state: SandboxState): Reply {
  const caller = identify(ctx, state.store, portalTokens.accepts);
  if (caller.kind === 'invalid') return errorReply(invalidToken(), 'portal', state.quirks.httpErrorStatuses);
  const org: Record<string, unknown> = {
    id: ORG_ID,
    name: ORG_NAME,
    urlKey: URL_KEY,
    // Online sets customBaseUrl to maps.arcgis.com; an Enterprise portal has none.
    customBaseUrl: state.enterprise ? '' : 'maps.arcgis.com',
    isPortal: state.enterprise,
    portalMode: state.enterprise ? 'singletenant' : 'multitenant',
    // The sandbox is plain http on loopback; allSSL:true would tell clients to rewrite URLs to https.
    allSSL: false,
    supportsOAuth: true,
    canSignInArcGIS: true,
    canSignInIDP: true,
    maxTokenExpirationMinutes: 20160,
    authorizedCrossOriginDomains: [],
    portalHostname: new URL(state.urls.portalUrl).host + new URL(state.urls.portalUrl).pathname,
    currentVersion: '2024.1',
    helperServices: {},
    created: CREATED,
    modified: CREATED,
  };
  if (caller.kind === 'user' && caller.record.username !== null) {
    const user = findUser(caller.record.username);
    if (user !== undefined) org.user = userJson(user);
  } else if (caller.kind === 'app') {
    org.appInfo = {
      appId: APP.clientId,
      itemId: APP.itemId,
      appOwner: APP.owner,
      orgId: ORG_ID,
      appTitle: APP.title,
      privileges: [],
    };
  }
  return json(org);
}

function userJson(user: SandboxUser): Record<string, unknown> {
  const [firstName = '', lastName = ''] = user.fullName.split(' ');
  return {
    username: user.username,
    udn: null,
    id: `u${Buffer.from(user.username).toString('hex').padEnd(31, '0').slice(0, 31)}`,
    fullName: user.fullName,
    firstName,
    lastName,
    email: user.email,
    description: null,
    userType: 'both',
    idpUsername: user.provider === 'saml' ? user.email : null,
    mfaEnabled: false,
    orgId: ORG_ID,
    role: user.role,
    roleId: ROLE_IDS[user.role],
    privileges: ROLE_PRIVILEGES[user.role],
    userLicenseTypeId: 'creatorUT',
    level: '2',
    disabled: false,
    access: 'org',
    // ArcGIS reports SAML users with provider "enterprise".
    provider: user.provider === 'saml' ? 'enterprise' : 'arcgis',
    culture: 'en',
    region: 'US',
    units: 'english',
    tags: [],
    groups: [],
    created: CREATED,
    modified: CREATED,
  };
}
