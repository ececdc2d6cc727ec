import { findApp } from '../directory.js';
import { oauthError } from '../errors.js';
import { param } from '../http/request-context.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';

/**
 * `/oauth2/revokeToken` (§3): `{"success":true}` even for unknown tokens (RFC 7009 §2.2 too).
 * Revoking a refresh token kills its access tokens; app tokens and generateToken tokens cannot be
 * revoked, so those requests succeed without effect. A token of another client is left alone.
 */
export function revokeToken(ctx: RequestContext, state: SandboxState): Reply {
  const app = findApp(param(ctx, 'client_id'));
  if (app === undefined) {
    return errorReply(
      oauthError(400, 'invalid_client_id', 'Invalid client_id'),
      'portal',
      state.quirks.httpErrorStatuses,
    );
  }
  const presented = param(ctx, 'auth_token') ?? '';
  const { store } = state;
  const refresh = store.findRefresh(presented);
  if (refresh !== undefined && refresh.clientId === app.clientId) {
    store.revokeRefresh(presented);
  } else {
    const access = store.resolveAccess(presented);
    if (
      access.status === 'valid' &&
      access.record.source === 'oauth' &&
      access.record.clientId === app.clientId
    ) {
      store.revokeAccess(presented);
    }
  }
  return json({ success: true });
}
