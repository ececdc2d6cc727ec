import { ArcGisHttpClient, createDispatcher } from './arcgis/http-client.js';
import { LocalSignIns } from './auth/local-sign-ins.js';
import { PersistentNeedsToken } from './auth/needs-token-memory.js';
import { PendingSignIns } from './auth/pending-sign-ins.js';
import { ProfileRegistry } from './auth/profile-registry.js';
import { ServiceAccess } from './auth/service-access.js';
import { createSecretStore } from './auth/store/create-secret-store.js';
import type { SecretStore } from './auth/store/secret-store.js';
import type { ServerConfig } from './config.js';
import type { Logger } from './log.js';

/** The composition root: everything a tool needs, built once per server process. */
export interface AppContext {
  config: ServerConfig;
  log: Logger;
  http: ArcGisHttpClient;
  store: SecretStore;
  profiles: ProfileRegistry;
  access: ServiceAccess;
  pending: PendingSignIns;
  localSignIns: LocalSignIns;
  now: () => number;
  /** Settles when start-up work (session restore, environment credentials) is done; tools wait for it. */
  ready: Promise<void>;
}

export function createAppContext(
  config: ServerConfig,
  log: Logger,
  overrides: { store?: SecretStore; http?: ArcGisHttpClient; now?: () => number } = {},
): AppContext {
  const now = overrides.now ?? Date.now;
  const http =
    overrides.http ??
    new ArcGisHttpClient({
      timeoutMs: config.requestTimeoutMs,
      ...(config.extraCaPem ? { dispatcher: createDispatcher({ extraCaPem: config.extraCaPem }) } : {}),
    });
  const store = overrides.store ?? createSecretStore(config.tokenStore, { configDir: config.configDir });
  const profiles = new ProfileRegistry(config, { http, store, log, now });
  const pending = new PendingSignIns(now);
  return {
    config,
    log,
    http,
    store,
    profiles,
    access: new ServiceAccess(http, profiles, now, new PersistentNeedsToken(config.configDir)),
    pending,
    localSignIns: new LocalSignIns({ http, pending, log }),
    now,
    ready: Promise.resolve(),
  };
}
