import { rateLimited, serverBusy } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { errorReply, html } from '../http/respond.js';
import type { Reply } from '../http/respond.js';
import { page } from '../portal/html.js';
import type { FaultSwitches } from '../types.js';

/** Whether the current fault settings target this request (§10.8; admin paths never reach here). */
export function faultApplies(faults: FaultSwitches, ctx: RequestContext): boolean {
  const isPortal = ctx.path.toLowerCase().startsWith('/portal');
  if (faults.scope === 'services' && isPortal) return false;
  if (faults.scope === 'portal' && !isPortal) return false;
  return faults.pathIncludes === '' || ctx.path.includes(faults.pathIncludes);
}

/**
 * The one-shot faults, consumed in a fixed order: drop, rate limit, server error, HTML. Each
 * counter counts down by one per request it answers. null: serve the request normally.
 */
export function takeFault(faults: FaultSwitches, ctx: RequestContext): Reply | null {
  if (faults.dropNext > 0) {
    faults.dropNext -= 1;
    return { kind: 'drop' };
  }
  const flavour = ctx.path.toLowerCase().startsWith('/portal') ? 'portal' : 'service';
  if (faults.rateLimitNext > 0) {
    faults.rateLimitNext -= 1;
    // §2: HTTP 429, or code 429 in a 200 body; Retry-After is not documented [U].
    const reply = errorReply(rateLimited(), flavour, !faults.rateLimitAsBody);
    if (reply.kind === 'json' && faults.retryAfterSeconds !== null) {
      reply.headers = { 'Retry-After': String(faults.retryAfterSeconds) };
    }
    return reply;
  }
  if (faults.serverErrorNext > 0) {
    faults.serverErrorNext -= 1;
    // §2 [O]: the busy/timeout bodies arrive as HTTP 200 envelopes.
    return errorReply(serverBusy(faults.serverErrorCode), flavour, false);
  }
  if (faults.htmlNext > 0) {
    faults.htmlNext -= 1;
    // A proxy or web adaptor page where JSON was expected (§1: never trust the content type).
    return html(
      page(
        'Service Unavailable',
        '<h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p>',
      ),
    );
  }
  return null;
}
