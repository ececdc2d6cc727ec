import { createAppContext, type AppContext } from '../app-context.js';
import type { ProfileContext } from '../auth/profile-registry.js';
import { loadConfig, loadEnv } from '../config.js';
import { isArcGisMcpError, type ArcGisMcpError } from '../errors.js';
import { createLogger, parseLogLevel, type Logger } from '../log.js';

/**
 * What every human command shares with the MCP server: the same configuration (environment,
 * `.env`, `config.json`), the same secret-store entry and the same rotation lock, so that a script
 * and the assistant use one sign-in (product.md, "Human CLI").
 *
 * stdout belongs to the command (a status table, a token for a script); logs and prompts go to
 * stderr. Logs default to `warn` here: a script reading `arcgis-mcp token` wants a quiet stderr.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export function cliLogger(): Logger {
  return createLogger({ level: parseLogLevel(process.env['ARCGIS_LOG_LEVEL'], 'warn') });
}

/** Loads the configuration and builds the same composition root as the server. Throws CONFIG_INVALID. */
export function createCliContext(log: Logger = cliLogger()): AppContext {
  return createAppContext(loadConfig(loadEnv()), log);
}

/** ` --profile P` for a non-default profile, so the next step can be copied as is. */
export function profileFlag(p: ProfileContext): string {
  return p.isDefault ? '' : ` --profile ${p.config.name}`;
}

/** `gis.example.org/portal`, for messages. */
export function portalLabel(p: ProfileContext): string {
  return `${p.config.portalUrl.host}${p.config.portalUrl.pathname.replace(/\/+$/, '')}`;
}

const SIGN_IN_AGAIN = new Set([
  'ARCGIS_SIGN_IN_REQUIRED',
  'ARCGIS_SESSION_EXPIRED',
  'ARCGIS_TOKEN_INVALID',
  'OAUTH_NO_PENDING_SIGN_IN',
  'OAUTH_STATE_MISMATCH',
  'OAUTH_CODE_REJECTED',
  'OAUTH_ACCESS_DENIED',
  'OAUTH_TIMEOUT',
]);

/**
 * The next step for a person at a terminal. The core's `nextStep` texts speak to the model
 * ("call arcgis_auth_url"); here the same situations name the command to run instead.
 */
export function cliNextStep(e: ArcGisMcpError, loginCommand = 'arcgis-mcp login'): string | undefined {
  if (SIGN_IN_AGAIN.has(e.code)) return `run \`${loginCommand}\`.`;
  switch (e.code) {
    case 'KEYCHAIN_UNAVAILABLE':
      return 'unlock the OS keychain (or set ARCGIS_TOKEN_STORE=file to opt in to a 0600 file), then run `arcgis-mcp login`; `arcgis-mcp doctor` checks the store.';
    case 'ARCGIS_UNREACHABLE':
    case 'ARCGIS_TIMEOUT':
    case 'ARCGIS_SERVER_ERROR':
    case 'ARCGIS_RATE_LIMITED':
    case 'ARCGIS_BAD_RESPONSE':
      return 'check the network and ARCGIS_PORTAL_URL, then try again; `arcgis-mcp doctor` checks the portal.';
    default:
      // Keep the core's advice unless it is addressed to the model.
      if (e.nextStep && !/arcgis_[a-z_]+/.test(e.nextStep)) return e.nextStep;
      return e.code === 'CONFIG_INVALID'
        ? 'fix the configuration (see "Configuration" in the README); `arcgis-mcp doctor` checks it.'
        : undefined;
  }
}

/** `arcgis-mcp <command>: <message>` and the next step, on stderr. Never a stack or a secret. */
export function reportError(io: CliIo, command: string, e: unknown, loginCommand?: string): void {
  if (isArcGisMcpError(e)) {
    let next = cliNextStep(e, loginCommand);
    if (next && e.message.includes(next.replace(/\.$/, ''))) next = undefined;
    io.err(`arcgis-mcp ${command}: ${e.message}\n${next ? `Next step: ${next}\n` : ''}`);
    return;
  }
  io.err(`arcgis-mcp ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
}

/** ISO time and how far away it is: `2026-12-04T20:30:00.000Z (in 29 min)`. */
export function when(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'unknown';
  const diff = ms - now;
  const abs = Math.abs(diff);
  const span =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 2 * 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 2 * 86_400_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} days`;
  return `${new Date(ms).toISOString()} (${diff >= 0 ? `in ${span}` : `${span} ago`})`;
}
