import { parseSandboxArgs, USAGE } from './cli-args.js';
import { startSandbox } from './sandbox.js';

/** Where the CLI writes and how it stops; injectable so tests can run it in-process. */
export interface SandboxCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the sandbox should stop (default: SIGINT or SIGTERM). */
  stopped: () => Promise<string>;
  exit: (code: number) => void;
}

const processIo: SandboxCliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopped: () =>
    new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }),
  exit: (code) => {
    process.exitCode = code;
  },
};

/**
 * `arcgis-mcp sandbox ...` (product.md contract): exactly one JSON line on stdout once the sandbox
 * accepts connections; everything for humans on stderr; runs until SIGINT/SIGTERM, then closes
 * and exits 0. Bad flags: a message on stderr, exit code 2.
 */
export async function runSandboxCli(argv: string[], io: SandboxCliIo = processIo): Promise<void> {
  const parsed = parseSandboxArgs(argv);
  if (parsed.kind === 'help') {
    io.stderr(USAGE);
    io.exit(0);
    return;
  }
  if (parsed.kind === 'error') {
    io.stderr(`arcgis-mcp sandbox: ${parsed.message}\n${USAGE}`);
    io.exit(2);
    return;
  }
  // Listen for signals before the ready line: a test may signal as soon as it reads it.
  const stopped = io.stopped();
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox(parsed.options);
  } catch (error) {
    // e.g. EADDRINUSE for --port: no ready line, a readable reason, a non-zero exit.
    io.stderr(
      `arcgis-mcp sandbox: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    io.exit(1);
    return;
  }
  io.stdout(`${JSON.stringify(sandbox.info)}\n`);
  io.stderr(
    `ArcGIS sandbox ready: portal ${sandbox.info.portalUrl}\n` +
      `  sign in as ${sandbox.info.users.map((u) => `${u.username}/${u.password}`).join(', ')}\n` +
      `  Ctrl-C to stop.\n`,
  );
  const signal = await stopped;
  io.stderr(`ArcGIS sandbox: ${signal}, closing.\n`);
  await sandbox.close();
  io.exit(0);
}
