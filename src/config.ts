import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { OOB_REDIRECT_URI } from './arcgis/oauth.js';
import { parseHttpUrl } from './auth/service-url.js';
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
  /** Extra hosts that may receive this profile's user token (ARCGIS_TRUSTED_HOSTS syntax). */
  trustedHosts: string[];
}

/** Section D (scripts): credentials from the environment or `.env`, for the default profile only. */
export interface EnvironmentCredentials {
  username: string | undefined;
  password: string | undefined;
  /** ARCGIS_TOKEN or ARCGIS_API_KEY: classified (user or app) before use. */
  token: string | undefined;
}

export interface ServerConfig {
  profiles: ProfileConfig[];
  defaultProfile: string;
  tokenStore: SecretStoreKind;
  configDir: string;
  requestTimeoutMs: number;
  toolDeadlineMs: number;
  /** Where the variables came from, for diagnostics (never their values). */
  envFile: string | undefined;
  /** The profiles file, when one was read. */
  configFile: string | undefined;
  /** An extra CA bundle (PEM) for Enterprise servers with an internal certificate authority. */
  extraCaPem: string | undefined;
  credentials: EnvironmentCredentials;
}

export type Env = Record<string, string | undefined>;

/** Reads `.env` from `cwd` (if present) under the real environment. */
export function loadEnv(
  env: Env = process.env,
  cwd = process.cwd(),
): { env: Env; envFile: string | undefined } {
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
  // The listener binds 127.0.0.1 only (AUTH-LOOPBACK); `localhost` may resolve to ::1 (RFC 8252 §8.3).
  if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') {
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      'ARCGIS_REDIRECT_URI must be out-of-band or a loopback http URL.',
      {
        nextStep: `Use ${OOB_REDIRECT_URI} or http://127.0.0.1:<port>/callback (RFC 8252 §7.3).`,
      },
    );
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

const profileFileEntry = z
  .object({
    portalUrl: z.string().min(1),
    clientId: z.string().min(1).optional(),
    redirectUri: z.string().min(1).optional(),
    expirationMinutes: z.number().int().positive().optional(),
    trustedHosts: z.array(z.string().min(1)).optional(),
  })
  .strict();
const profilesFile = z
  .object({
    defaultProfile: z.string().min(1).optional(),
    profiles: z.record(
      z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'profile names: letters, digits, _ and -'),
      profileFileEntry,
    ),
  })
  .strict();

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}

/**
 * Profiles (several portals at once): the environment defines one (ARCGIS_PORTAL_URL, …, named
 * ARCGIS_PROFILE or "default"); `config.json` in ARCGIS_CONFIG_DIR may define more. The file holds
 * no secret (STORE-KEYCHAIN-FIRST): a `clientSecret` or `password` key is refused, not ignored.
 */
function readProfilesFile(
  configDir: string,
  env: Env,
): { file: string; parsed: z.infer<typeof profilesFile> } | undefined {
  const file = join(configDir, 'config.json');
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ArcGisMcpError('CONFIG_INVALID', `${file} is not valid JSON.`);
  }
  const r = profilesFile.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    const secretKey =
      issue?.code === 'unrecognized_keys' && issue.keys.some((k) => /secret|password|token/i.test(k));
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      secretKey
        ? `${file} must not hold secrets (${where || 'a profile'}): keep client secrets and passwords in the environment or the keychain.`
        : `${file} is not a valid profiles file: ${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}.`,
      { nextStep: 'Fix the file (see "Profiles" in the README) and restart the server.' },
    );
  }
  void env;
  return { file, parsed: r.data };
}

function readCaFile(path: string | undefined): string | undefined {
  if (!path) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    throw new ArcGisMcpError('CONFIG_INVALID', `ARCGIS_CA_FILE ${JSON.stringify(path)} cannot be read.`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      `ARCGIS_CA_FILE ${JSON.stringify(path)} holds no PEM certificate.`,
    );
  }
  return pem;
}

export function loadConfig(source: { env: Env; envFile?: string | undefined }): ServerConfig {
  const { env } = source;
  const store = (env.ARCGIS_TOKEN_STORE ?? 'keychain').toLowerCase();
  if (store !== 'keychain' && store !== 'file' && store !== 'memory') {
    throw new ArcGisMcpError('CONFIG_INVALID', `ARCGIS_TOKEN_STORE must be keychain, file or memory.`);
  }
  const configDir = env.ARCGIS_CONFIG_DIR || defaultConfigDir(env);
  const globalTrusted = splitList(env.ARCGIS_TRUSTED_HOSTS);
  const expirationMinutes = positiveInt(
    env.ARCGIS_REFRESH_EXPIRATION_MINUTES,
    20_160,
    'ARCGIS_REFRESH_EXPIRATION_MINUTES',
  );
  const profiles: ProfileConfig[] = [];

  const fromFile = readProfilesFile(configDir, env);
  const envDefinesPortal = !!env.ARCGIS_PORTAL_URL || !!env.ARCGIS_CLIENT_ID || !fromFile;
  if (envDefinesPortal) {
    const portalUrl = normalisePortalUrl(env.ARCGIS_PORTAL_URL || 'https://www.arcgis.com');
    profiles.push({
      name: env.ARCGIS_PROFILE || 'default',
      portalUrl,
      restUrl: restUrlOf(portalUrl),
      clientId: env.ARCGIS_CLIENT_ID || undefined,
      clientSecret: env.ARCGIS_CLIENT_SECRET || undefined,
      redirectUri: checkRedirectUri(env.ARCGIS_REDIRECT_URI || OOB_REDIRECT_URI),
      expirationMinutes,
      trustedHosts: globalTrusted,
    });
  }
  for (const [name, p] of Object.entries(fromFile?.parsed.profiles ?? {})) {
    if (profiles.some((q) => q.name === name)) {
      throw new ArcGisMcpError(
        'CONFIG_INVALID',
        `Profile "${name}" is defined twice (environment and ${fromFile?.file}).`,
      );
    }
    const portalUrl = normalisePortalUrl(p.portalUrl);
    profiles.push({
      name,
      portalUrl,
      restUrl: restUrlOf(portalUrl),
      clientId: p.clientId,
      clientSecret: undefined,
      redirectUri: checkRedirectUri(p.redirectUri ?? OOB_REDIRECT_URI),
      expirationMinutes: p.expirationMinutes ?? expirationMinutes,
      trustedHosts: [...globalTrusted, ...(p.trustedHosts ?? [])],
    });
  }
  const first = profiles[0];
  if (!first) throw new ArcGisMcpError('CONFIG_INVALID', 'No profile is configured.');
  const defaultProfile = fromFile?.parsed.defaultProfile ?? first.name;
  if (!profiles.some((p) => p.name === defaultProfile)) {
    throw new ArcGisMcpError(
      'CONFIG_INVALID',
      `defaultProfile "${defaultProfile}" is not a configured profile.`,
    );
  }
  return {
    profiles,
    defaultProfile,
    tokenStore: store,
    configDir,
    requestTimeoutMs: positiveInt(env.ARCGIS_REQUEST_TIMEOUT_MS, 30_000, 'ARCGIS_REQUEST_TIMEOUT_MS'),
    toolDeadlineMs: positiveInt(env.ARCGIS_TOOL_DEADLINE_MS, 120_000, 'ARCGIS_TOOL_DEADLINE_MS'),
    envFile: source.envFile,
    configFile: fromFile?.file,
    extraCaPem: readCaFile(env.ARCGIS_CA_FILE),
    credentials: {
      username: env.ARCGIS_USERNAME || undefined,
      password: env.ARCGIS_PASSWORD || undefined,
      token: env.ARCGIS_TOKEN || env.ARCGIS_API_KEY || undefined,
    },
  };
}
