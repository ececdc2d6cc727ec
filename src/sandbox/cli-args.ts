import type { SandboxOptions } from './sandbox.js';

export const USAGE = `usage: arcgis-mcp sandbox [options]

Starts the ArcGIS Online/Enterprise emulator on 127.0.0.1 and prints one JSON line (the ready
line) on stdout once it accepts connections. Runs until SIGINT or SIGTERM.

  --port N             portal port (0 or absent: any free port)
  --token-ttl S        user access token lifetime in seconds (default 1800)
  --refresh-ttl S      refresh token lifetime in seconds (default: the authorize expiration, 2 weeks)
  --app-token-ttl S    client_credentials token lifetime in seconds (default: expiration, 7200)
  --enterprise         also start a federated and an unfederated ArcGIS Server
  --http-errors        answer errors with real 4xx/5xx statuses instead of HTTP 200
  --latency MS         add MS milliseconds to every response
  --help               this text
`;

export type ParsedArgs =
  { kind: 'help' } | { kind: 'run'; options: SandboxOptions } | { kind: 'error'; message: string };

const NUMERIC_FLAGS: Record<string, (options: SandboxOptions, value: number) => void> = {
  '--port': (o, v) => (o.port = v),
  '--token-ttl': (o, v) => (o.tokenTtlSeconds = v),
  '--refresh-ttl': (o, v) => (o.refreshTtlSeconds = v),
  '--app-token-ttl': (o, v) => (o.appTokenTtlSeconds = v),
  '--latency': (o, v) => (o.faults = { ...o.faults, latencyMs: v }),
};

/** Parses `--flag value` and `--flag=value`. Pure, so the CLI's rules are unit-testable. */
export function parseSandboxArgs(argv: readonly string[]): ParsedArgs {
  const options: SandboxOptions = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq !== -1 ? arg.slice(eq + 1) : undefined;
    if (flag === '--help' || flag === '-h') return { kind: 'help' };
    if (flag === '--enterprise' || flag === '--http-errors') {
      if (inline !== undefined) return { kind: 'error', message: `${flag} takes no value` };
      if (flag === '--enterprise') options.enterprise = true;
      else options.httpErrorStatuses = true;
      continue;
    }
    const set = NUMERIC_FLAGS[flag];
    if (set === undefined) return { kind: 'error', message: `unknown option ${JSON.stringify(arg)}` };
    const raw = inline ?? argv[++i];
    if (raw === undefined || !/^\d+$/.test(raw))
      return { kind: 'error', message: `${flag} needs a non-negative integer` };
    const value = Number(raw);
    if (flag === '--port' && value > 65535) return { kind: 'error', message: '--port must be 0..65535' };
    if (flag !== '--port' && flag !== '--latency' && value === 0)
      return { kind: 'error', message: `${flag} must be positive` };
    set(options, value);
  }
  return { kind: 'run', options };
}
