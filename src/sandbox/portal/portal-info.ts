import type { RequestContext } from '../http/request-context.js';
import { json } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import type { SandboxState } from '../state.js';

/** §9: the portal root reports its version; Enterprise adds `enterpriseVersion`. */
export function portalRoot(_ctx: RequestContext, state: SandboxState): Reply {
  return json(
    state.enterprise
      ? { currentVersion: '2024.1', enterpriseVersion: '11.3.0' }
      : { currentVersion: '2024.1' },
  );
}

/** §5: `/sharing/rest/info`: where tokens come from. */
export function portalInfo(_ctx: RequestContext, state: SandboxState): Reply {
  return json({
    owningSystemUrl: state.urls.portalUrl,
    authInfo: { tokenServicesUrl: `${state.urls.restUrl}/generateToken`, isTokenBasedSecurity: true },
  });
}
