import { PORTAL_REALM } from '../auth/token-store.js';
import { ORG_ID } from '../directory.js';
import type { ArcGisServer } from '../features/feature-router.js';
import type { ServiceDef } from '../features/layer-types.js';
import { normalizeRoot } from '../state.js';

/**
 * The portal's own hosting server, on the portal's origin at `/<orgId>/arcgis`, the path shape of
 * Online's `servicesN.arcgis.com/<orgId>/arcgis/rest/services/...` (§1). Same origin, so a client
 * whose host policy allows the portal host allows these services; it is federated with the portal
 * (owningSystemUrl), so portal tokens work here, and so do server tokens minted for its root.
 */
export function hostingServer(services: ServiceDef[]): ArcGisServer {
  return {
    rootPath: `/${ORG_ID}/arcgis`,
    services,
    errorFlavour: 'portal',
    accepts: (record, state) =>
      record.realm === PORTAL_REALM || record.realm === normalizeRoot(state.urls.hostingRoot),
    info: (state) => ({
      currentVersion: 11.3,
      fullVersion: '11.3.0',
      owningSystemUrl: state.urls.portalUrl,
      owningTenant: ORG_ID,
      authInfo: {
        isTokenBasedSecurity: true,
        tokenServicesUrl: `${state.urls.restUrl}/generateToken`,
        shortLivedTokenValidity: 60,
      },
    }),
  };
}
