import { createInterface } from 'node:readline';
import type { AppContext } from '../../app-context.js';
import { OOB_REDIRECT_URI } from '../../arcgis/oauth.js';
import { requireClientId, startOutOfBandSignIn } from '../../auth/out-of-band-sign-in.js';
import type { LocalAuthServer, SignInOutcome } from '../../auth/local-sign-in/types.js';
import type { ProfileContext } from '../../auth/profile-registry.js';
import { ArcGisMcpError } from '../../errors.js';
import { readPastedCode } from '../../auth/pasted-code.js';
import { type CliIo, portalLabel, profileFlag } from '../cli-context.js';
import { canOpenBrowser, openInBrowser } from '../open-browser.js';

/**
 * `arcgis-mcp login [--profile P] [--way browser|sign-in-page] [--no-open]` (gh auth login): the
 * same sign-in as arcgis_auth_url + arcgis_exchange_code, finished at the terminal. The refresh
 * token lands in the shared store, so the MCP server and scripts use this sign-in too.
 * - browser, out-of-band redirect: the link, then "Paste the code:" on stderr; the code is read
 *   from stdin (a TTY or a pipe) and redeemed with the PKCE verifier of this process only.
 * - browser, loopback redirect, and sign-in-page: a 127.0.0.1 listener (AUTH-LOOPBACK) catches the
 *   answer; the command waits for it. Ctrl-C cancels.
 * Links and prompts go to stderr; stdout gets who signed in.
 */
export interface LoginOptions {
  profile?: string | undefined;
  way: 'browser' | 'sign-in-page';
  open: boolean;
}

export async function runLogin(ctx: AppContext, io: CliIo, opts: LoginOptions): Promise<number> {
  const p = ctx.profiles.get(opts.profile);
  await p.session.restore();
  const before = p.session.status();
  if (before.signedIn && before.identity) {
    io.err(
      `Already signed in to ${portalLabel(p)} as ${before.identity.username}; a new sign-in replaces that session.\n`,
    );
  }
  const cancel = new AbortController();
  const onSigint = () => cancel.abort();
  process.once('SIGINT', onSigint);
  try {
    let outcome: SignInOutcome | null = null;
    if (opts.way === 'sign-in-page') {
      const { server } = await ctx.localSignIns.start(p, 'page');
      announce(
        io,
        server.signInPageUrl ?? '',
        opts.open,
        `Open this one-time page on this computer (valid 10 minutes). Sign in with ArcGIS (${p.config.portalUrl.host}), or paste a token you generated, or enter your username and password if your organisation does not use SAML or MFA.`,
      );
      outcome = await waitLocal(io, server, cancel.signal);
    } else if (p.config.redirectUri !== OOB_REDIRECT_URI) {
      requireClientId(p, noClientId(p));
      const { server, authorizeUrl } = await ctx.localSignIns.start(p, 'loopback');
      announce(
        io,
        authorizeUrl ?? '',
        opts.open,
        `Open this link and sign in to ${p.config.portalUrl.host} (valid 10 minutes). The browser comes back to this computer and the sign-in finishes by itself.`,
      );
      outcome = await waitLocal(io, server, cancel.signal);
    } else {
      await loginOutOfBand(ctx, io, p, opts, cancel.signal);
    }
    return finish(io, p, outcome);
  } finally {
    process.removeListener('SIGINT', onSigint);
    ctx.pending.cancel(p.config.name);
    await ctx.localSignIns.closeAll();
  }
}

async function loginOutOfBand(
  ctx: AppContext,
  io: CliIo,
  p: ProfileContext,
  opts: LoginOptions,
  signal: AbortSignal,
): Promise<void> {
  // The same link as arcgis_auth_url's out-of-band branch.
  const { authorizeUrl } = startOutOfBandSignIn(ctx.pending, p, noClientId(p));
  announce(
    io,
    authorizeUrl,
    opts.open,
    `Open this link and sign in to ${p.config.portalUrl.host} (valid 10 minutes), then copy the authorization code the page shows.`,
  );
  const input = await readLine(io, 'Paste the code: ', signal);
  const pasted = readPastedCode(input);
  // AUTH-STATE: a state that came back (a pasted redirect URL) must be ours; checked before any token request.
  const validated =
    pasted.state !== null
      ? ctx.pending.takeByState(p.config.name, pasted.state)
      : ctx.pending.takeLatest(p.config.name, OOB_REDIRECT_URI);
  await p.session.completeOAuth(validated, pasted.code);
}

function announce(io: CliIo, link: string, open: boolean, text: string): void {
  io.err(`${text}\n\n  ${link}\n\n`);
  if (open && canOpenBrowser()) {
    io.err('Opening it in your browser…\n');
    openInBrowser(link);
  }
}

async function waitLocal(io: CliIo, server: LocalAuthServer, signal: AbortSignal): Promise<SignInOutcome> {
  io.err('Waiting for the sign-in to finish (Ctrl-C cancels)…\n');
  return server.waitForCompletion(signal);
}

/** One line from stdin (TTY or pipe); the prompt goes to stderr so stdout stays the command's. */
function readLine(io: CliIo, prompt: string, signal: AbortSignal): Promise<string> {
  io.err(prompt);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let done = false;
    const settle = (f: () => void) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      process.stdin.pause();
      f();
    };
    const onAbort = () => settle(() => reject(cancelled()));
    signal.addEventListener('abort', onAbort);
    rl.on('line', (line) => {
      if (line.trim()) settle(() => resolve(line));
    });
    rl.on('close', () =>
      settle(() =>
        reject(
          new ArcGisMcpError('OAUTH_CODE_REJECTED', 'No code was entered (stdin closed).', {
            nextStep: 'run `arcgis-mcp login` again and paste the code the ArcGIS page shows.',
          }),
        ),
      ),
    );
  });
}

function cancelled(): ArcGisMcpError {
  return new ArcGisMcpError('CANCELLED', 'Sign-in cancelled.');
}

function finish(io: CliIo, p: ProfileContext, outcome: SignInOutcome | null): number {
  if (outcome?.way === 'token' && outcome.kind === 'app') {
    throw new ArcGisMcpError(
      'ARCGIS_APP_TOKEN_REFUSED',
      `The token entered on the page is an app token${outcome.appTitle ? ` (${JSON.stringify(outcome.appTitle)})` : ''}, not a user's: it cannot reach org-private content and was not kept.`,
      {
        nextStep: `sign in as yourself: run \`arcgis-mcp login${profileFlag(p)}\` (browser), or paste a token generated for your own account.`,
      },
    );
  }
  const status = p.session.status();
  const who = status.identity;
  if (!status.signedIn || !who) {
    throw new ArcGisMcpError('ARCGIS_SIGN_IN_REQUIRED', 'The sign-in did not leave a user session.');
  }
  io.out(
    `✓ Signed in as ${who.username}${who.orgName ? ` (${who.orgName})` : ''} to ${portalLabel(p)}, profile "${p.config.name}".\n`,
  );
  if (status.refreshTokenStoredIn) {
    io.err(`Refresh token stored in ${status.refreshTokenStoredIn}; the MCP server and scripts share it.\n`);
  } else {
    // A generated token or a password sign-in has no refresh token (arcgis-protocol.md §4): the core
    // keeps it in memory only, so it ends with this command.
    io.err(
      `Note: this way in (${outcome?.way === 'password' ? 'username and password' : 'a pasted token'}) gives no refresh token, so nothing was saved: it ended with this command. For a sign-in the MCP server and scripts share, choose "Sign in with ArcGIS" on the page or run \`arcgis-mcp login${profileFlag(p)}\`.\n`,
    );
  }
  return 0;
}

function noClientId(p: ProfileContext): string {
  return `run \`arcgis-mcp login${profileFlag(p)} --way sign-in-page\` (a generated token or a username and password), or register an OAuth app in the ArcGIS org (see the README) and set ARCGIS_CLIENT_ID. No client secret is needed.`;
}
