import { parseArgs } from 'node:util';
import type { AppContext } from '../app-context.js';
import { isArcGisMcpError } from '../errors.js';
import { createCliContext, reportError, stdio, type CliIo } from './cli-context.js';
import { runDoctor } from './commands/doctor.js';
import { runLogin } from './commands/login.js';
import { runLogout } from './commands/logout.js';
import { runStatus } from './commands/status.js';
import { runToken } from './commands/token.js';

/**
 * The human commands of the `arcgis-mcp` bin: `status`, `login`, `logout`, `token`, `doctor`.
 * They share the MCP server's configuration, secret-store entry and lock, so that `arcgis-mcp
 * login` in a terminal signs in Claude and scripts too (product.md, "Human CLI").
 *
 * Exit codes: 0 ok, 1 a problem (not signed in, a failed check, a refused sign-in), 2 bad usage,
 * 130 cancelled with Ctrl-C.
 */
export const CLI_COMMANDS = ['status', 'login', 'logout', 'token', 'doctor'] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

export const CLI_USAGE = `       arcgis-mcp status [--profile P] [--json]   who is signed in (exit 1 if not); never shows a token
       arcgis-mcp login [--profile P] [--way browser|sign-in-page] [--no-open]
       arcgis-mcp logout [--profile P]            revoke and delete every stored copy
       arcgis-mcp token [--profile P]             print a fresh access token for scripts (a secret)
       arcgis-mcp doctor                          check configuration, keychain and portal
`;

const OPTIONS = {
  profile: { type: 'string' },
  json: { type: 'boolean' },
  way: { type: 'string' },
  'no-open': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ALLOWED: Record<CliCommand, readonly (keyof typeof OPTIONS)[]> = {
  status: ['profile', 'json', 'help'],
  login: ['profile', 'way', 'no-open', 'help'],
  logout: ['profile', 'help'],
  token: ['profile', 'help'],
  doctor: ['help'],
};

export async function runCli(command: CliCommand, argv: string[], io: CliIo = stdio): Promise<number> {
  let values: {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
  };
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
    const extra = Object.keys(values).filter((k) => !ALLOWED[command].includes(k as keyof typeof OPTIONS));
    if (extra.length > 0) throw new Error(`unknown option --${extra[0]}`);
    if (values.way !== undefined && values.way !== 'browser' && values.way !== 'sign-in-page') {
      throw new Error('--way must be browser or sign-in-page');
    }
  } catch (e) {
    io.err(`arcgis-mcp ${command}: ${e instanceof Error ? e.message : String(e)}\nusage:\n${CLI_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.err(`usage:\n${CLI_USAGE}`);
    return 0;
  }
  if (command === 'doctor') return runDoctor(io);

  let ctx: AppContext | undefined;
  const profile = values.profile;
  try {
    ctx = createCliContext();
    switch (command) {
      case 'status':
        return await runStatus(ctx, io, { profile, json: values.json === true });
      case 'login':
        return await runLogin(ctx, io, {
          profile,
          way: values.way === 'sign-in-page' ? 'sign-in-page' : 'browser',
          open: values['no-open'] !== true,
        });
      case 'logout':
        return await runLogout(ctx, io, { profile });
      case 'token':
        return await runToken(ctx, io, { profile });
      default:
        return 2;
    }
  } catch (e) {
    if (isArcGisMcpError(e) && e.code === 'CANCELLED') {
      io.err('\nSign-in cancelled.\n');
      return 130;
    }
    const p = ctx && profile !== undefined ? ` --profile ${profile}` : '';
    reportError(io, command, e, `arcgis-mcp login${p}`);
    return 1;
  } finally {
    await ctx?.localSignIns.closeAll().catch(() => undefined);
  }
}

/** Flushes stdout and stderr, then exits: the HTTP keep-alive pool must not hold a script for seconds. */
export async function exitAfterFlush(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  process.exit(code);
}
