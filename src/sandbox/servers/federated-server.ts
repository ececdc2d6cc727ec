import { PORTAL_REALM } from '../auth/token-store.js';
import type { ArcGisServer } from '../features/feature-router.js';
import type { ServiceDef } from '../features/layer-types.js';
import { normalizeRoot } from '../state.js';

export const FEDERATED_ROOT_PATH = '/server';

/**
 * Enterprise: an ArcGIS Server federated with the portal, on its own origin (§9, §11). Its
 * rest/info names the portal as owningSystemUrl; it trusts only server tokens minted by the
 * portal's generateToken with `serverUrl` = its root. Accepting the raw portal token is real
 * behaviour on some versions [U]: `quirks.federatedAcceptsPortalToken`, default off.
 */
export function federatedServer(services: ServiceDef[]): ArcGisServer {
  return {
    rootPath: FEDERATED_ROOT_PATH,
    services,
    errorFlavour: 'server',
    accepts: (record, state) => {
      if (state.urls.federatedRoot !== null && record.realm === normalizeRoot(state.urls.federatedRoot))
        return true;
      return (
        state.quirks.federatedAcceptsPortalToken && record.realm === PORTAL_REALM && record.kind === 'user'
      );
    },
    info: (state) => ({
      currentVersion: 11.3,
      fullVersion: '11.3.0',
      owningSystemUrl: state.urls.portalUrl,
      authInfo: {
        isTokenBasedSecurity: true,
        tokenServicesUrl: `${state.urls.restUrl}/generateToken`,
        shortLivedTokenValidity: 60,
      },
    }),
  };
}
