import type { AppContext } from '../../app-context.js';
import { ArcGisMcpError } from '../../errors.js';
import { type CliIo, portalLabel, profileFlag } from '../cli-context.js';

/**
 * `arcgis-mcp token [--profile P]` (gh auth token): a fresh access token of the shared sign-in on
 * stdout, one line, nothing else, for scripts (python/arcgis_mcp.py). The session comes from the
 * secret store and is refreshed exactly as the server does it (REL-PROACTIVE, rotation under the
 * cross-process lock, STORE-ROTATION-SAFE). The refresh token never leaves the store.
 *
 * The printed token is a secret: it goes to the terminal or the script that ran the command only,
 * and is valid until it expires (ArcGIS default 30 minutes) or the user signs out.
 */
export async function runToken(
  ctx: AppContext,
  io: CliIo,
  opts: { profile?: string | undefined },
): Promise<number> {
  const p = ctx.profiles.get(opts.profile);
  await p.session.restore();
  const login = `arcgis-mcp login${profileFlag(p)}`;
  if (!p.session.hasUserSession) {
    const problem = p.session.status().problem;
    throw new ArcGisMcpError(
      'ARCGIS_SIGN_IN_REQUIRED',
      `not signed in to ${portalLabel(p)} (profile "${p.config.name}")${problem ? `: ${problem}` : ''}: run \`${login}\``,
    );
  }
  const credential = await p.session.userCredential();
  if (!credential) {
    throw new ArcGisMcpError(
      'ARCGIS_SIGN_IN_REQUIRED',
      `not signed in to ${portalLabel(p)} (profile "${p.config.name}"): run \`${login}\``,
    );
  }
  io.out(`${credential.accessToken}\n`);
  return 0;
}
