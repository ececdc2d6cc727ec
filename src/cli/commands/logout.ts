import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../../app-context.js';
import { CREDENTIALS_FILE_NAME, FileStore } from '../../auth/store/file-store.js';
import { type CliIo, portalLabel } from '../cli-context.js';

/**
 * `arcgis-mcp logout [--profile P]` (gh auth logout): revokes the session at the portal (which
 * kills its access tokens too, arcgis-protocol.md §3) and deletes every stored copy
 * (STORE-EXPLICIT-FALLBACK), for one profile or, without --profile, every configured one — like
 * arcgis_logout. With the keychain store, a credentials file left from an earlier
 * ARCGIS_TOKEN_STORE=file is cleared of the profile too, so no copy outlives the sign-out.
 */
export async function runLogout(
  ctx: AppContext,
  io: CliIo,
  opts: { profile?: string | undefined },
): Promise<number> {
  const targets = opts.profile ? [ctx.profiles.get(opts.profile)] : ctx.profiles.all();
  const leftoverFile = join(ctx.config.configDir, CREDENTIALS_FILE_NAME);
  const leftover =
    ctx.store.kind === 'keychain' && existsSync(leftoverFile) ? new FileStore({ path: leftoverFile }) : null;
  for (const p of targets) {
    ctx.pending.cancel(p.config.name);
    await p.session.restore();
    const who = p.session.status().identity?.username;
    const r = await p.session.logout();
    p.app.forget();
    const fromFile = leftover ? await leftover.delete(p.session.account).catch(() => false) : false;
    const parts: string[] = [];
    if (r.revoked) parts.push('revoked at the portal');
    if (r.deleted) parts.push(`removed from ${ctx.store.describe()}`);
    if (fromFile && leftover) parts.push(`removed from ${leftover.describe()}`);
    io.out(
      parts.length > 0
        ? `✓ Signed out of ${portalLabel(p)} (profile "${p.config.name}")${who ? ` as ${who}` : ''}: ${parts.join('; ')}.\n`
        : `✓ Not signed in to ${portalLabel(p)} (profile "${p.config.name}"): nothing was stored.\n`,
    );
  }
  return 0;
}
