import type { IncomingMessage } from 'node:http';
import type { TokenIn } from '../types.js';

/** Request bodies beyond this are refused: the sandbox never needs more (URLs over ~2000 chars move to POST, §8). */
const MAX_BODY_BYTES = 1024 * 1024;

/** One parsed request: ArcGIS reads parameters from the query string and the form body alike (§1). */
export interface RequestContext {
  method: string;
  /** `http://127.0.0.1:PORT`: each listener is its own origin. */
  origin: string;
  /** Path with one trailing slash removed (§10.1: trailing slash tolerated). */
  path: string;
  rawPath: string;
  query: URLSearchParams;
  body: URLSearchParams;
  /** Raw body text, for the JSON admin endpoints. */
  bodyText: string;
  headers: IncomingMessage['headers'];
  token: string | null;
  tokenIn: TokenIn;
  referer: string | undefined;
}

/** Query first, then body: ArcGIS merges both; a POST body wins when a key is in both. */
export function param(ctx: RequestContext, name: string): string | undefined {
  return ctx.body.get(name) ?? ctx.query.get(name) ?? undefined;
}

export async function readRequest(req: IncomingMessage, origin: string): Promise<RequestContext> {
  const url = new URL(req.url ?? '/', origin);
  const bodyText = await readBody(req);
  const contentType = String(req.headers['content-type'] ?? '');
  // §12: multipart bodies may be ignored by GeoServices servers; the sandbox reads form bodies only.
  const body =
    contentType.includes('application/json') || contentType.includes('multipart/')
      ? new URLSearchParams()
      : new URLSearchParams(bodyText);
  const rawPath = url.pathname;
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const { token, tokenIn } = findToken(req, url.searchParams, body);
  const referer = typeof req.headers.referer === 'string' ? req.headers.referer : undefined;
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    origin,
    path,
    rawPath,
    query: url.searchParams,
    body,
    bodyText,
    headers: req.headers,
    token,
    tokenIn,
    referer,
  };
}

/**
 * §10.7: a token may arrive as `token` (query or body), `X-Esri-Authorization: Bearer` or
 * `Authorization: Bearer`. Headers win: §9 recommends X-Esri-Authorization, and the web tier
 * owns `Authorization` in IWA/PKI setups.
 */
function findToken(
  req: IncomingMessage,
  query: URLSearchParams,
  body: URLSearchParams,
): { token: string | null; tokenIn: TokenIn } {
  const esri = bearer(req.headers['x-esri-authorization']);
  if (esri !== null) return { token: esri, tokenIn: 'x-esri-authorization' };
  const auth = bearer(req.headers.authorization);
  if (auth !== null) return { token: auth, tokenIn: 'authorization' };
  const inBody = body.get('token');
  if (inBody !== null && inBody !== '') return { token: inBody, tokenIn: 'body' };
  const inQuery = query.get('token');
  if (inQuery !== null && inQuery !== '') return { token: inQuery, tokenIn: 'query' };
  return { token: null, tokenIn: 'none' };
}

function bearer(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
