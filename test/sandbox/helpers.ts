import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are inspected field by field
export type Json = any;

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Json;
}

/** One HTTP exchange, redirects never followed (tests look at the 302 itself). */
export async function http(
  url: string,
  init: {
    method?: 'GET' | 'POST';
    form?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
  } = {},
): Promise<HttpResult> {
  const method = init.method ?? (init.form !== undefined || init.body !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined = init.body;
  if (init.form !== undefined) {
    body = new URLSearchParams(init.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await request(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text),
  };
}

export function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

export async function getJson(
  url: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Json> {
  return (await http(withQuery(url, { f: 'json', ...params }), { headers })).json();
}

export async function postJson(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Json> {
  return (await http(url, { form: { f: 'json', ...form }, headers })).json();
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const OOB = 'urn:ietf:wg:oauth:2.0:oob';

export function rest(sandbox: RunningSandbox, path: string): string {
  return `${sandbox.info.portalUrl}/sharing/rest${path}`;
}

export function password(sandbox: RunningSandbox, username: string): string {
  const user = sandbox.info.users.find((u) => u.username === username);
  if (user === undefined) throw new Error(`no user ${username}`);
  return user.password;
}

/** Signs in through the HTML form (POST, as a browser would) and returns the code. */
export async function signInForCode(
  sandbox: RunningSandbox,
  options: {
    username?: string;
    redirectUri?: string;
    state?: string;
    challenge?: string;
    method?: string;
    expiration?: string;
  } = {},
): Promise<string> {
  const username = options.username ?? 'alice';
  const redirectUri = options.redirectUri ?? OOB;
  const form: Record<string, string> = {
    client_id: sandbox.info.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    username,
    password: password(sandbox, username),
  };
  if (options.state !== undefined) form.state = options.state;
  if (options.challenge !== undefined) {
    form.code_challenge = options.challenge;
    form.code_challenge_method = options.method ?? 'S256';
  }
  if (options.expiration !== undefined) form.expiration = options.expiration;
  const res = await http(rest(sandbox, '/oauth2/authorize'), { form });
  if (redirectUri === OOB) {
    const match = /id="code">([^<]+)</.exec(res.text);
    if (match?.[1] === undefined) throw new Error(`no code on the page: ${res.text}`);
    return match[1];
  }
  const location = res.headers.location;
  if (res.status !== 302 || typeof location !== 'string')
    throw new Error(`expected a 302, got ${res.status}`);
  const code = new URL(location).searchParams.get('code');
  if (code === null) throw new Error(`no code in ${location}`);
  return code;
}

/** The full code flow: sign in, redeem, return the token response. */
export async function signIn(
  sandbox: RunningSandbox,
  username = 'alice',
): Promise<{
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  username: string;
}> {
  const { verifier, challenge } = pkcePair();
  const code = await signInForCode(sandbox, { username, challenge });
  return postJson(rest(sandbox, '/oauth2/token'), {
    client_id: sandbox.info.clientId,
    grant_type: 'authorization_code',
    code,
    redirect_uri: OOB,
    code_verifier: verifier,
  });
}

export async function appToken(sandbox: RunningSandbox): Promise<string> {
  const body = await postJson(rest(sandbox, '/oauth2/token/'), {
    client_id: sandbox.info.clientId,
    client_secret: sandbox.info.clientSecret,
    grant_type: 'client_credentials',
  });
  return body.access_token as string;
}

export async function generateToken(sandbox: RunningSandbox, form: Record<string, string>): Promise<Json> {
  return postJson(rest(sandbox, '/generateToken'), form);
}
