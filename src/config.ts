import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { OOB_REDIRECT_URI } from './arcgis/oauth.js';
import { isLoopbackHostname, parseHttpUrl } from './auth/service-url.js';
import type { SecretStoreKind } from './auth/store/secret-store.js';
import { ArcGisMcpError } from './errors.js';

/**
 * Configuration comes from the environment and an `.env` file in the working directory
 * (product.md, "Configuration by environment"). The environment wins over `.env`.
 * Portals come only from here, never from the model (AUTH-PORTAL-FROM-CONFIG).
 */
export interface ProfileConfig {
  /** The name tools accept as `profile`. */
  name: string;
  /** Portal base URL without `/sharing/rest`: `https://www.arcgis.com`, `https://gis.example.org/portal`. */
  portalUrl: URL;
  /** `${portalUrl}/sharing/rest` (arcgis-protocol.md §1). */
  restUrl: URL;
  clientId: string | undefined;
  /** Only for 2-legged app tokens; never needed for a user sign-in (product.md §A). */
  clientSecret: string | undefined;
  redirectUri: string;
  /** Refresh-token lifetime asked for at sign-in, minutes (arcgis-protocol.md §3). */
  expirationMinutes: number;
}

export interface ServerConfig {
  profiles: ProfileConfig[];
  defaultProfile: string;
  tokenStore: SecretStoreKind;
  configDir: string;
  trustedHosts: string | undefined;
  requestTimeoutMs: number;
  toolDeadlineMs: number;
  /** Where the variables came from, for diagnostics (never their values). */
  envFile: string | undefined;
}

export type Env = Record<string, string | undefined>;

/** Reads `.env` from `cwd` (if present) under the real environment. */
export function loadEnv(env: Env = process.env, cwd = process.cwd()): { env: Env; envFile: string | undefined } {
  const file = join(cwd, '.env');
  if (!existsSync(file)) return { env, envFile: undefined };
  const fromFile = parseEnv(readFileSync(file, 'utf8')) as Env;
  return { env: { ...fromFile, ...env }, envFile: file };
}

export function normalisePortalUrl(input: string): URL {
  const url = parseHttpUrl(input.trim());
  url.search = '';
  url.hash = '';
  // Accept the REST root too: `https://host/portal/sharing/rest` → `https://host/portal`.
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/sharing(\/rest)?$/i, '');
  return url;
}

export function restUrlOf(portalUrl: URL): URL {
  return new URL(`${portalUrl.href.replace(/\/+$/, '')}/sharing/rest`);
}

function defaultConfigDir(env: Env): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'arcgis-mcp');
  return join(env.HOME ?? homedir(), '.config', 'arcgis-mcp');
}

function checkRedirectUri(value: string): string {
  if (value === OOB_REDIRECT_URI) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ArcGisMcpError('CONFIG_INVALID', `ARCGIS_REDIRECT_URI is not a URL.`, {
      nextStep: `Use ${OOB_REDIRECT_URI} or http://127.0.0.1:<port>/callback.`,
    });
  }
  // RFC 8252 §7.3 and §8.3: loopback redirects use the IP literal and plain http.
  if (url.protocol !== 'http:' || !isLoopbackHostname(url.hostname)) {
    throw new ArcGisMcpError('CONFIG_INVALID', 'ARCGIS_REDIRECT_URI must be out-of-band or a loopback http URL.', {
      nextStep: `Use ${OOB_REDIRECT_URI} or http://127.0.0.1:<port>/callback (RFC 8252 §7.3).`,
    });
  }
  return value;
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ArcGisMcpError('CONFIG_INVALID', `${name} must be a positive integer.`);
  }
  return n;
}

export function loadConfig(source: { env: Env; envFile?: string | undefined }): ServerConfig {
  const { env } = source;
  const store = (env.ARCGIS_TOKEN_STORE ?? 'keychain').toLowerCase();
  if (store !== 'keychain' && store !== 'file' && store !== 'memory') {
    throw new ArcGisMcpError('CONFIG_INVALID', `ARCGIS_TOKEN_STORE must be keychain, file or memory.`);
  }
  const portalUrl = normalisePortalUrl(env.ARCGIS_PORTAL_URL || 'https://www.arcgis.com');
  const profile: ProfileConfig = {
    name: env.ARCGIS_PROFILE || 'default',
    portalUrl,
    restUrl: restUrlOf(portalUrl),
    clientId: env.ARCGIS_CLIENT_ID || undefined,
    clientSecret: env.ARCGIS_CLIENT_SECRET || undefined,
    redirectUri: checkRedirectUri(env.ARCGIS_REDIRECT_URI || OOB_REDIRECT_URI),
    expirationMinutes: positiveInt(env.ARCGIS_REFRESH_EXPIRATION_MINUTES, 20_160, 'ARCGIS_REFRESH_EXPIRATION_MINUTES'),
  };
  return {
    profiles: [profile],
    defaultProfile: profile.name,
    tokenStore: store,
    configDir: env.ARCGIS_CONFIG_DIR || defaultConfigDir(env),
    trustedHosts: env.ARCGIS_TRUSTED_HOSTS,
    requestTimeoutMs: positiveInt(env.ARCGIS_REQUEST_TIMEOUT_MS, 30_000, 'ARCGIS_REQUEST_TIMEOUT_MS'),
    toolDeadlineMs: positiveInt(env.ARCGIS_TOOL_DEADLINE_MS, 120_000, 'ARCGIS_TOOL_DEADLINE_MS'),
    envFile: source.envFile,
  };
}
