import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSecretStore, probeSecretService } from '../auth/store/create-secret-store.js';
import type { SecretStoreKind } from '../auth/store/secret-store.js';
import { startSandbox } from '../sandbox/sandbox.js';
import { signInLikeABrowser } from './scripted-browser.js';

/**
 * `npm run demo`: the whole decision tree against the built-in sandbox, through a real MCP client
 * talking to the built server over stdio. Prints a short transcript; leaves nothing behind.
 */
const SERVER = fileURLToPath(new URL('../index.js', import.meta.url));
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

function firstLine(r: CallToolResult): string {
  const t = r.content.find((c) => c.type === 'text');
  return t && t.type === 'text' ? (t.text.split('\n')[0] ?? '') : '';
}

async function main(): Promise<void> {
  const sandbox = await startSandbox();
  const user = sandbox.info.users.find((u) => u.username === 'alice') ?? sandbox.info.users[0];
  if (!user) throw new Error('the sandbox has no users');
  const configDir = mkdtempSync(join(tmpdir(), 'arcgis-mcp-demo-'));
  const probe = await probeSecretService();
  const store: SecretStoreKind = probe.available ? 'keychain' : 'file';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(process.env.DBUS_SESSION_BUS_ADDRESS
      ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
      : {}),
    ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}),
    ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
    ARCGIS_CLIENT_ID: sandbox.info.clientId,
    ARCGIS_TOKEN_STORE: store,
    ARCGIS_CONFIG_DIR: configDir,
    ARCGIS_LOG_LEVEL: 'warn',
  };

  console.log(bold('arcgis-mcp demo'));
  console.log(dim(`sandbox portal ${sandbox.info.portalUrl}; refresh token store: ${store}`));
  if (!probe.available) {
    console.log(
      dim('(no OS keychain answers here; the demo opts in to a 0600 file in a temp folder instead)'),
    );
  }

  let step = 0;
  let client = await connect(env);
  const call = async (title: string, name: string, args: Record<string, unknown> = {}) => {
    step++;
    console.log(`\n${bold(`${step}. ${title}`)}`);
    const shown = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, k === 'code' ? '<code>' : v]));
    console.log(dim(`   → ${name} ${JSON.stringify(shown)}`));
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    console.log(`   ${r.isError ? '✗' : '←'} ${firstLine(r)}`);
    return r;
  };

  try {
    await call('Query a public layer: no sign-in needed', 'arcgis_query', {
      url: sandbox.info.services.public,
      limit: 3,
    });
    const refused = await call('Query an org-private layer before signing in', 'arcgis_query', {
      url: sandbox.info.services.private,
      limit: 3,
    });
    const next = refused.content.find((c) => c.type === 'text');
    if (next?.type === 'text') console.log(dim(`     ${next.text.split('\n').slice(1).join(' ').trim()}`));

    const start = await call('Start a sign-in (OAuth 2.0 + PKCE, out-of-band)', 'arcgis_auth_url');
    const authorizeUrl = (start.structuredContent as { authorizeUrl: string }).authorizeUrl;

    step++;
    console.log(
      `\n${bold(`${step}. The user signs in as "${user.username}" in the browser and copies the code`)}`,
    );
    const { code } = await signInLikeABrowser(authorizeUrl, user.username, user.password);
    if (!code) throw new Error('the sandbox sign-in page showed no code');
    console.log(dim(`   (the sandbox's sign-in page showed a ${code.length}-character code)`));

    await call('Finish the sign-in with the pasted code', 'arcgis_exchange_code', { code });
    await call('Who is signed in?', 'arcgis_whoami');
    await call('Query the org-private layer as the user', 'arcgis_query', {
      url: sandbox.info.services.private,
      where: "STATUS = 'Open'",
      returnCountOnly: true,
    });
    await call('Page through the large layer', 'arcgis_query', {
      url: sandbox.info.services.large,
      limit: 5,
      offset: 50_000,
    });

    step++;
    console.log(`\n${bold(`${step}. Restart the server`)}`);
    await client.close();
    client = await connect(env);
    console.log(dim('   (new process; the refresh token is read back from the store)'));
    await call('Who is signed in after the restart?', 'arcgis_whoami');
    await call('Query the private layer again: no new sign-in', 'arcgis_query', {
      url: sandbox.info.services.private,
      returnCountOnly: true,
    });
    console.log(`\n${bold('Done.')} No token, password or verifier went through the chat.`);
  } finally {
    await client.close().catch(() => undefined);
    await createSecretStore(store, { configDir })
      .delete(`default@${sandbox.info.portalUrl}`)
      .catch(() => false);
    rmSync(configDir, { recursive: true, force: true });
    await sandbox.close();
  }
}

async function connect(env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER],
    env,
    stderr: 'inherit',
  });
  const client = new Client({ name: 'arcgis-mcp-demo', version: '0.1.0' });
  await client.connect(transport);
  return client;
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
