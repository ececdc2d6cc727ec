import { TokenStore } from './auth/token-store.js';
import { APP, ORG_ID, USERS } from './directory.js';
import { federatedServices, hostingServices, unfederatedServices } from './features/datasets/catalog.js';
import { routeServer } from './features/feature-router.js';
import { defaultFaults } from './faults/default-faults.js';
import { startListener } from './http/listener.js';
import type { Listener } from './http/listener.js';
import { routePortal } from './portal/portal-router.js';
import { federatedServer, FEDERATED_ROOT_PATH } from './servers/federated-server.js';
import { hostingServer } from './servers/hosting-server.js';
import { unfederatedServer, UNFEDERATED_ROOT_PATH } from './servers/unfederated-server.js';
import type { SandboxState } from './state.js';
import type { FaultSwitches, QuirkSwitches, RecordedRequest, SandboxReadyInfo } from './types.js';

export type { FaultSwitches, QuirkSwitches, RecordedRequest, SandboxReadyInfo } from './types.js';

export interface SandboxOptions {
  /** 0 or absent: any free port. Always binds 127.0.0.1 only. */
  port?: number;
  /** User access token lifetime, default 1800 (§3). */
  tokenTtlSeconds?: number;
  /** Refresh token lifetime, default 1209600 (two weeks); when set, overrides `expiration`. */
  refreshTtlSeconds?: number;
  /** client_credentials lifetime, default 7200; when set, overrides `expiration`. */
  appTokenTtlSeconds?: number;
  /** Also start a federated and an unfederated ArcGIS Server (§9). */
  enterprise?: boolean;
  /** Errors with their real 4xx/5xx status instead of HTTP 200 (§10.2). */
  httpErrorStatuses?: boolean;
  faults?: Partial<FaultSwitches>;
  /** Behaviours marked [U] in the spec; see QuirkSwitches. */
  quirks?: Partial<QuirkSwitches>;
  /** Epoch-ms clock for every expiry decision, so tests can move time without sleeping. */
  clock?: () => number;
}

export interface RunningSandbox {
  /** Exactly what the ready line prints. */
  info: SandboxReadyInfo;
  /** Mutable at run time (also through `POST /__sandbox/faults`). */
  faults: FaultSwitches;
  /** Mutable at run time (also through `POST /__sandbox/quirks`). */
  quirks: QuirkSwitches;
  /** Request log: where tokens travelled, never their values. */
  requests: RecordedRequest[];
  /** Every current access token expires now. */
  expireAccessTokens(): number;
  /** Every refresh token (and the access tokens minted from it) is revoked. */
  revokeAll(): number;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const now = options.clock ?? Date.now;
  const enterprise = options.enterprise === true;
  const state: SandboxState = {
    now,
    store: new TokenStore(now),
    lifetimes: {
      tokenTtlSeconds: options.tokenTtlSeconds ?? 1800,
      refreshTtlSeconds: options.refreshTtlSeconds ?? null,
      appTokenTtlSeconds: options.appTokenTtlSeconds ?? null,
    },
    quirks: {
      httpErrorStatuses: options.httpErrorStatuses ?? false,
      federatedAcceptsPortalToken: false,
      revokeOnCodeReuse: true,
      htmlWithoutF: false,
      ...options.quirks,
    },
    faults: { ...defaultFaults(), ...options.faults },
    requests: [],
    enterprise,
    urls: {
      portalOrigin: '',
      portalUrl: '',
      restUrl: '',
      hostingRoot: '',
      federatedRoot: null,
      unfederatedRoot: null,
    },
  };

  const hosting = hostingServer(hostingServices());
  const listeners: Listener[] = [];
  try {
    const portal = await startListener(
      options.port ?? 0,
      state,
      (ctx, s) => routePortal(ctx, s) ?? routeServer(ctx, s, hosting),
      true,
    );
    listeners.push(portal);
    state.urls.portalOrigin = portal.origin;
    state.urls.portalUrl = `${portal.origin}/portal`;
    state.urls.restUrl = `${portal.origin}/portal/sharing/rest`;
    state.urls.hostingRoot = `${portal.origin}${hosting.rootPath}`;

    if (enterprise) {
      // Other ports are other origins: a client's host policy must treat them as other servers.
      const federated = federatedServer(federatedServices());
      const fed = await startListener(0, state, (ctx, s) => routeServer(ctx, s, federated), false);
      listeners.push(fed);
      state.urls.federatedRoot = `${fed.origin}${FEDERATED_ROOT_PATH}`;
      const unfederated = unfederatedServer(unfederatedServices());
      const unfed = await startListener(0, state, (ctx, s) => routeServer(ctx, s, unfederated), false);
      listeners.push(unfed);
      state.urls.unfederatedRoot = `${unfed.origin}${UNFEDERATED_ROOT_PATH}`;
    }
  } catch (error) {
    await closeAll(listeners);
    throw error;
  }

  return {
    info: readyInfo(state),
    faults: state.faults,
    quirks: state.quirks,
    requests: state.requests,
    expireAccessTokens: () => state.store.expireAllAccess(),
    revokeAll: () => state.store.revokeAllRefresh(),
    close: () => closeAll(listeners),
  };
}

function readyInfo(state: SandboxState): SandboxReadyInfo {
  const { urls } = state;
  const hosted = (service: string, layer?: number): string =>
    `${urls.hostingRoot}/rest/services/${service}/FeatureServer${layer === undefined ? '' : `/${layer}`}`;
  const info: SandboxReadyInfo = {
    portalUrl: urls.portalUrl,
    restUrl: urls.restUrl,
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    redirectUris: [...APP.redirectUris],
    orgId: ORG_ID,
    users: USERS.map((u) => ({ username: u.username, password: u.password, role: u.role })),
    services: {
      public: hosted('Parks', 0),
      private: hosted('Texas_Shelters', 0),
      large: hosted('Incidents', 0),
      noPagination: hosted('Hydrants_Koop', 0),
      table: hosted('Texas_Shelters', 1),
      publicService: hosted('Parks'),
      privateService: hosted('Texas_Shelters'),
    },
    hostingServerUrl: urls.hostingRoot,
    adminUrl: `${urls.portalOrigin}/__sandbox`,
    enterprise: state.enterprise,
  };
  if (urls.federatedRoot !== null && urls.unfederatedRoot !== null) {
    info.services.federated = `${urls.federatedRoot}/rest/services/Water_Network/FeatureServer/0`;
    info.services.unfederated = `${urls.unfederatedRoot}/rest/services/Public_Parks/FeatureServer/0`;
    info.services.unfederatedPrivate = `${urls.unfederatedRoot}/rest/services/Utility_Hydrants/FeatureServer/0`;
    info.servers = { federated: urls.federatedRoot, unfederated: urls.unfederatedRoot };
  }
  return info;
}

async function closeAll(listeners: readonly Listener[]): Promise<void> {
  await Promise.all(
    listeners.map(
      ({ server }) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}
