#!/usr/bin/env node
/**
 * The `arcgis-mcp` bin (product.md contract):
 * - no arguments: the MCP server on stdio;
 * - `sandbox [--port N] ...`: the ArcGIS emulator on 127.0.0.1;
 * - `status | login | logout | token | doctor`: the human command line (src/cli/run-cli.ts).
 */
const [command, ...rest] = process.argv.slice(2);

async function main(): Promise<void> {
  switch (command) {
    case undefined:
    case 'serve': {
      const { runStdioServer } = await import('./mcp/run-stdio.js');
      await runStdioServer();
      return;
    }
    case 'sandbox': {
      const { runSandboxCli } = await import('./sandbox/cli.js');
      await runSandboxCli(rest);
      return;
    }
    case 'status':
    case 'login':
    case 'logout':
    case 'token':
    case 'doctor': {
      const { runCli, exitAfterFlush } = await import('./cli/run-cli.js');
      await exitAfterFlush(await runCli(command, rest));
      return;
    }
    case '--help':
    case '-h':
    case 'help': {
      const { CLI_USAGE } = await import('./cli/run-cli.js');
      process.stderr.write(
        'usage: arcgis-mcp            run the MCP server on stdio\n       arcgis-mcp sandbox [--port N] [--token-ttl S] [--refresh-ttl S] [--enterprise]\n' +
          CLI_USAGE,
      );
      return;
    }
    default:
      process.stderr.write(`arcgis-mcp: unknown command ${JSON.stringify(command)} (try --help)\n`);
      process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`arcgis-mcp: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
