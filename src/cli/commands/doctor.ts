import { constants, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ArcGisHttpClient, createDispatcher } from '../../arcgis/http-client.js';
import { OOB_REDIRECT_URI, withSlash } from '../../arcgis/oauth.js';
import { getPortalSelf, getRestInfo } from '../../arcgis/portal.js';
import { probeSecretService } from '../../auth/store/create-secret-store.js';
import { CREDENTIALS_FILE_NAME, FileStore } from '../../auth/store/file-store.js';
import { loadConfig, loadEnv, type ProfileConfig, type ServerConfig } from '../../config.js';
import { warnIfEnvFileNotIgnored } from '../../env-file-check.js';
import { isArcGisMcpError } from '../../errors.js';
import { createLogger } from '../../log.js';
import type { CliIo } from '../cli-context.js';

/**
 * `arcgis-mcp doctor`: one line per check, ✓ or ✗ (and ! for a warning that does not fail), with
 * the fix on failure. Exit 1 when any check fails. Talks to the portal anonymously only: no token
 * is read or sent, so doctor is safe to paste into an issue.
 */
type Mark = '✓' | '✗' | '!';
interface Check {
  mark: Mark;
  text: string;
  fix?: string;
}

const MIN_NODE_MAJOR = 20;
const PROBE_TIMEOUT_MS = 10_000;

export async function runDoctor(io: CliIo): Promise<number> {
  const checks: Check[] = [];
  const emit = (c: Check) => {
    checks.push(c);
    io.out(`${c.mark} ${c.text}${c.fix ? ` — fix: ${c.fix}` : ''}\n`);
  };

  emit(checkNode());

  let config: ServerConfig;
  try {
    const source = loadEnv();
    config = loadConfig(source);
    const where = [config.envFile ? `.env ${config.envFile}` : null, config.configFile].filter(Boolean);
    emit({
      mark: '✓',
      text: `configuration loads: ${config.profiles
        .map((p) => `${p.name}${p.name === config.defaultProfile ? ' (default)' : ''} ${p.portalUrl.href}`)
        .join(', ')}${where.length ? ` [from ${where.join(', ')} and the environment]` : ''}`,
    });
  } catch (e) {
    emit({
      mark: '✗',
      text: `configuration does not load: ${e instanceof Error ? e.message : String(e)}`,
      fix: (isArcGisMcpError(e) && e.nextStep) || 'see "Configuration" in the README',
    });
    return 1;
  }

  emit(await checkStore(config));
  const http = new ArcGisHttpClient({
    timeoutMs: Math.min(config.requestTimeoutMs, PROBE_TIMEOUT_MS),
    retry: { maxRetries: 0 },
    ...(config.extraCaPem ? { dispatcher: createDispatcher({ extraCaPem: config.extraCaPem }) } : {}),
  });
  for (const p of config.profiles) {
    emit(checkClientId(p));
    emit(await checkRedirect(p));
    for (const c of await checkPortal(http, p)) emit(c);
  }
  emit(await checkEnvFile(config.envFile));

  return checks.some((c) => c.mark === '✗') ? 1 : 0;
}

function checkNode(): Check {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= MIN_NODE_MAJOR
    ? { mark: '✓', text: `Node.js ${process.version} (needs ${MIN_NODE_MAJOR} or later)` }
    : {
        mark: '✗',
        text: `Node.js ${process.version} is too old`,
        fix: `install Node.js ${MIN_NODE_MAJOR} or later`,
      };
}

function checkClientId(p: ProfileConfig): Check {
  return p.clientId
    ? { mark: '✓', text: `[${p.name}] client id set (${p.clientId})` }
    : {
        mark: '✗',
        text: `[${p.name}] no client id: browser sign-in is not possible`,
        fix: 'register an OAuth app in the ArcGIS org (see "Register an ArcGIS OAuth app" in the README) and set ARCGIS_CLIENT_ID; no client secret is needed',
      };
}

async function checkRedirect(p: ProfileConfig): Promise<Check> {
  if (p.redirectUri === OOB_REDIRECT_URI) {
    return { mark: '✓', text: `[${p.name}] redirect URI: out-of-band (${OOB_REDIRECT_URI}): paste the code` };
  }
  const port = new URL(p.redirectUri).port;
  if (!port) {
    return {
      mark: '✓',
      text: `[${p.name}] redirect URI: loopback ${p.redirectUri} (port chosen at sign-in time)`,
    };
  }
  const free = await portIsFree(Number(port));
  return free
    ? { mark: '✓', text: `[${p.name}] redirect URI: loopback ${p.redirectUri} (port ${port} is free)` }
    : {
        mark: '!',
        text: `[${p.name}] redirect URI: loopback ${p.redirectUri}, but port ${port} is in use now (another sign-in, or another program)`,
        fix: `finish or cancel the other sign-in, or register and configure another port`,
      };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await f();
  return { value, ms: Math.round(performance.now() - started) };
}

/** `{rest}/info` and `portals/self`, anonymously (arcgis-protocol.md §5). */
async function checkPortal(http: ArcGisHttpClient, p: ProfileConfig): Promise<Check[]> {
  const fix =
    'check ARCGIS_PORTAL_URL (the portal, e.g. https://www.arcgis.com or https://gis.example.org/portal), the network and proxy; for an internal CA set ARCGIS_CA_FILE';
  const infoUrl = new URL('info', withSlash(p.restUrl));
  const out: Check[] = [];
  try {
    const info = await timed(() => getRestInfo(http, infoUrl));
    const version = info.value.currentVersion;
    out.push({
      mark: '✓',
      text: `[${p.name}] portal reachable: ${infoUrl.href} answered in ${info.ms} ms${version !== undefined ? ` (version ${version})` : ''}`,
    });
  } catch (e) {
    out.push({ mark: '✗', text: `[${p.name}] portal not reachable: ${infoUrl.href}: ${reason(e)}`, fix });
    return out;
  }
  try {
    const self = await timed(() => getPortalSelf(http, p.restUrl));
    const name = self.value.name ? `org "${self.value.name}"` : 'no org shown anonymously';
    out.push({
      mark: '✓',
      text: `[${p.name}] portals/self answered in ${self.ms} ms (${name}${self.value.supportsOAuth === false ? ', OAuth not supported' : ''})`,
    });
  } catch (e) {
    out.push({ mark: '✗', text: `[${p.name}] portals/self failed: ${reason(e)}`, fix });
  }
  return out;
}

function reason(e: unknown): string {
  return isArcGisMcpError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e);
}

async function checkStore(config: ServerConfig): Promise<Check> {
  switch (config.tokenStore) {
    case 'keychain': {
      const probe = await probeSecretService();
      return probe.available
        ? { mark: '✓', text: 'secret store: the OS keychain works (set, read back, delete a probe entry)' }
        : {
            mark: '✗',
            text: `secret store: the OS keychain does not work: ${probe.reason ?? 'unknown reason'}`,
            fix: 'unlock the keychain (on Linux: a running, unlocked Secret Service such as gnome-keyring, and DBUS_SESSION_BUS_ADDRESS), or opt in to a 0600 file with ARCGIS_TOKEN_STORE=file',
          };
    }
    case 'file': {
      const path = join(config.configDir, CREDENTIALS_FILE_NAME);
      try {
        // Read-only: reading checks the mode and the owner as every use does; no write races a server.
        await new FileStore({ path }).get('doctor-probe');
        await access(nearestExisting(dirname(path)), constants.W_OK);
        return {
          mark: '✓',
          text: `secret store: plaintext file (opted in with ARCGIS_TOKEN_STORE=file) ${path} is usable`,
        };
      } catch (e) {
        return {
          mark: '✗',
          text: `secret store: ${path} is not usable: ${reason(e)}`,
          fix: (isArcGisMcpError(e) && e.nextStep) || `make ${dirname(path)} writable by you (mode 0700)`,
        };
      }
    }
    case 'memory':
      return {
        mark: '!',
        text: 'secret store: memory only (ARCGIS_TOKEN_STORE=memory): nothing is kept, so `arcgis-mcp login` cannot share a sign-in with the server or scripts',
        fix: 'unset ARCGIS_TOKEN_STORE to use the OS keychain',
      };
  }
}

function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

async function checkEnvFile(envFile: string | undefined): Promise<Check> {
  if (!envFile) return { mark: '✓', text: 'no .env file in this folder' };
  const silent = createLogger({ write: () => undefined });
  const exposed = await warnIfEnvFileNotIgnored(envFile, silent);
  return exposed
    ? {
        mark: '✗',
        text: `${envFile} is not ignored by git: credentials in it could be committed`,
        fix: 'add ".env" to .gitignore',
      }
    : { mark: '✓', text: `${envFile} is git-ignored (or not in a git repository)` };
}
