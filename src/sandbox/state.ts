import type { TokenStore } from './auth/token-store.js';
import type { FaultSwitches, QuirkSwitches, RecordedRequest } from './types.js';

/** Lifetimes in force. null: follow the request's `expiration` parameter (§3, §4). */
export interface LifetimeConfig {
  tokenTtlSeconds: number;
  /** When set, overrides the authorize `expiration` parameter (tests want short refresh tokens). */
  refreshTtlSeconds: number | null;
  /** When set, overrides the client_credentials `expiration` parameter. */
  appTokenTtlSeconds: number | null;
}

/** Where everything lives once the listeners are bound. */
export interface SandboxUrls {
  portalOrigin: string;
  /** `http://127.0.0.1:P/portal` (§11: owningSystemUrl is the portal URL without /sharing/rest). */
  portalUrl: string;
  /** `${portalUrl}/sharing/rest`. */
  restUrl: string;
  /** The portal's own hosting server root, `http://127.0.0.1:P/<orgId>/arcgis`. */
  hostingRoot: string;
  federatedRoot: string | null;
  unfederatedRoot: string | null;
}

/** Everything the handlers share. One instance per running sandbox. */
export interface SandboxState {
  now: () => number;
  store: TokenStore;
  lifetimes: LifetimeConfig;
  quirks: QuirkSwitches;
  faults: FaultSwitches;
  requests: RecordedRequest[];
  enterprise: boolean;
  urls: SandboxUrls;
}

/** Server roots compare without a trailing slash and case-insensitively in scheme and host. */
export function normalizeRoot(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.replace(/\/+$/, '');
  }
}
