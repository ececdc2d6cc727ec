import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PREFIX, routeAdmin } from '../admin/admin-routes.js';
import { faultApplies, takeFault } from '../faults/apply-faults.js';
import { page } from '../portal/html.js';
import { recordRequest } from '../request-log.js';
import type { SandboxState } from '../state.js';
import { param, readRequest } from './request-context.js';
import type { RequestContext } from './request-context.js';
import { html, writeReply } from './respond.js';
import type { Reply } from './respond.js';

export type Route = (ctx: RequestContext, state: SandboxState) => Reply | null;

export interface Listener {
  server: Server;
  origin: string;
}

/** §10.9: everything binds 127.0.0.1 only. */
const HOST = '127.0.0.1';

/**
 * One origin of the sandbox. Each request: parse → (admin?) → log → latency → one-shot faults →
 * route. `admin` is true on the portal's listener only.
 */
export async function startListener(
  port: number,
  state: SandboxState,
  route: Route,
  admin: boolean,
): Promise<Listener> {
  let origin = '';
  const server = createServer((req, res) => {
    handle(req, res, origin, state, route, admin).catch((error: unknown) => {
      console.error(`[sandbox] internal error: ${JSON.stringify(String(error))}`);
      if (!res.headersSent) {
        writeReply(null, res, {
          kind: 'json',
          status: 500,
          body: { error: { code: 500, message: 'Internal sandbox error.', details: [] } },
          flavour: 'service',
        });
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  origin = `http://${HOST}:${address.port}`;
  return { server, origin };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  origin: string,
  state: SandboxState,
  route: Route,
  admin: boolean,
): Promise<void> {
  const ctx = await readRequest(req, origin);
  if (admin && (ctx.path === ADMIN_PREFIX || ctx.path.startsWith(`${ADMIN_PREFIX}/`))) {
    writeReply(ctx, res, routeAdmin(ctx, state));
    return;
  }
  state.requests.push(recordRequest(ctx, state.store, state.now()));

  const { faults } = state;
  if (faultApplies(faults, ctx)) {
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    const fault = takeFault(faults, ctx);
    if (fault !== null) {
      writeReply(ctx, res, fault);
      return;
    }
  }

  const reply = route(ctx, state) ?? {
    kind: 'json',
    status: 404,
    body: { error: { code: 404, message: 'Not found.', details: [] } },
    flavour: 'service',
  };
  writeReply(ctx, res, withDefaultFormat(ctx, state, reply));
}

/**
 * §1: without `f` most ArcGIS resources answer HTML. Modelled behind `quirks.htmlWithoutF`
 * (default off: a missing `f` answers JSON, which is what every client asks for anyway).
 */
function withDefaultFormat(ctx: RequestContext, state: SandboxState, reply: Reply): Reply {
  if (!state.quirks.htmlWithoutF || reply.kind !== 'json' || param(ctx, 'f') !== undefined) return reply;
  const lower = ctx.path.toLowerCase();
  if (lower.includes('/oauth2/') || lower.endsWith('generatetoken')) return reply;
  return html(
    page('ArcGIS REST', `<h1>ArcGIS REST</h1><pre>${escape(JSON.stringify(reply.body, null, 2))}</pre>`),
    reply.status,
  );
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
