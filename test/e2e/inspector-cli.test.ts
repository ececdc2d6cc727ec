import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { assertBuilt, SERVER_ENTRY } from '../helpers/mcp-client.js';

/**
 * The README's MCP Inspector commands, run as written with the pinned Inspector CLI: a third
 * real client besides the SDK client and Claude.
 */
const run = promisify(execFile);
const INSPECTOR = fileURLToPath(new URL('../../node_modules/.bin/mcp-inspector', import.meta.url));

describe('MCP Inspector CLI (README commands)', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    assertBuilt();
    sandbox = await startSandbox();
  });
  afterAll(async () => sandbox?.close());

  const inspector = (...args: string[]) =>
    run(
      INSPECTOR,
      [
        '--cli',
        process.execPath,
        SERVER_ENTRY,
        '-e',
        `ARCGIS_PORTAL_URL=${sandbox.info.portalUrl}`,
        '-e',
        `ARCGIS_CLIENT_ID=${sandbox.info.clientId}`,
        '-e',
        'ARCGIS_TOKEN_STORE=memory',
        ...args,
      ],
      { timeout: 60_000 },
    );

  it('lists the tools', async () => {
    const { stdout } = await inspector('--method', 'tools/list');
    const names = (JSON.parse(stdout) as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['arcgis_auth_url', 'arcgis_exchange_code', 'arcgis_whoami', 'arcgis_query']),
    );
  });

  it('calls arcgis_query on a public layer', async () => {
    const { stdout } = await inspector(
      '--method',
      'tools/call',
      '--tool-name',
      'arcgis_query',
      '--tool-arg',
      `url=${sandbox.info.services.public}`,
      '--tool-arg',
      'limit=2',
    );
    const result = JSON.parse(stdout) as { structuredContent?: { returned: number; accessedAs: string } };
    expect(result.structuredContent).toMatchObject({ returned: 2, accessedAs: 'anonymous' });
  });
});
