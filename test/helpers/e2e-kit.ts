import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createSecretStore } from '../../src/auth/store/create-secret-store.js';
import { signInLikeABrowser } from '../../src/cli/scripted-browser.js';
import type { RecordedRequest, RunningSandbox } from '../../src/sandbox/sandbox.js';
import { textOf, type SpawnedServer } from './mcp-client.js';
import { secretService } from './secret-service.js';

/**
 * Shared pieces of the end-to-end suites: the built server over stdio against an in-process
 * sandbox. Everything here reads what a user (or the security tests) can observe: tool results,
 * the sandbox's request log (where tokens travelled, never their values) and the secret store.
 */

/** The real keychain when a Secret Service answers, else the opt-in 0600 file store. */
export const STORE: 'keychain' | 'file' = secretService.available ? 'keychain' : 'file';

export function tempConfigDir(prefix = 'arcgis-mcp-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The environment of a server pointed at `sandbox` (default profile), plus `extra`. */
export function serverEnv(
  sandbox: RunningSandbox,
  configDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ARCGIS_PORTAL_URL: sandbox.info.portalUrl,
    ARCGIS_CLIENT_ID: sandbox.info.clientId,
    ARCGIS_TOKEN_STORE: STORE,
    ARCGIS_CONFIG_DIR: configDir,
    ...extra,
  };
}

/** The secret-store account of a profile (ProfileSession.account): `<profile>@<portalUrl>`. */
export function accountOf(sandbox: RunningSandbox, profile = 'default'): string {
  return `${profile}@${sandbox.info.portalUrl}`;
}

export interface StoredSessionView {
  username: string;
  refreshToken: string;
  refreshExpiresAt: number;
}

/** What the server left in the store for `account`, or null. Never print `refreshToken`. */
export async function readStored(configDir: string, account: string): Promise<StoredSessionView | null> {
  const raw = await createSecretStore(STORE, { configDir }).get(account);
  if (raw === null) return null;
  return JSON.parse(raw) as StoredSessionView;
}

export async function writeStored(configDir: string, account: string, value: string): Promise<void> {
  await createSecretStore(STORE, { configDir }).set(account, value);
}

export async function deleteStored(configDir: string, account: string): Promise<void> {
  await createSecretStore(STORE, { configDir })
    .delete(account)
    .catch(() => undefined);
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function alice(sandbox: RunningSandbox): { username: string; password: string } {
  return sandbox.info.users.find((u) => u.username === 'alice') ?? sandbox.info.users[0]!;
}

export function bob(sandbox: RunningSandbox): { username: string; password: string } {
  return sandbox.info.users.find((u) => u.username === 'bob') ?? sandbox.info.users[1]!;
}

/** Out-of-band sign-in as a user would do it: link → browser form → paste the code. */
export async function signInOob(
  server: SpawnedServer,
  user: { username: string; password: string },
  profile?: string,
): Promise<CallToolResult> {
  const args = profile === undefined ? {} : { profile };
  const start = await server.call('arcgis_auth_url', args);
  expect(start.isError, textOf(start)).toBeFalsy();
  const { authorizeUrl } = start.structuredContent as { authorizeUrl: string };
  const { code } = await signInLikeABrowser(authorizeUrl, user.username, user.password);
  expect(code, 'the sandbox showed no code').toBeTruthy();
  const done = await server.call('arcgis_exchange_code', { code: code!, ...args });
  expect(done.isError, textOf(done)).toBeFalsy();
  return done;
}

/** A tool result is an error carrying `code` in its text, and no structuredContent. */
export function expectToolError(result: CallToolResult, code: string | RegExp): string {
  const text = textOf(result);
  expect(result.isError, text).toBe(true);
  expect(result.structuredContent, text).toBeUndefined();
  expect(text).toMatch(typeof code === 'string' ? new RegExp(`^${code}\\b`) : code);
  return text;
}

/** The server still answers: arcgis_whoami succeeds. */
export async function expectStillServing(server: SpawnedServer): Promise<void> {
  const who = await server.call('arcgis_whoami');
  expect(who.isError, textOf(who)).toBeFalsy();
}

/** The request-log entries recorded since `mark` (an index from `mark()`). */
export function since(sandbox: RunningSandbox, mark: number): RecordedRequest[] {
  return sandbox.requests.slice(mark);
}

export function mark(sandbox: RunningSandbox): number {
  return sandbox.requests.length;
}

export type TokenGrant = 'authorization_code' | 'refresh_token' | 'exchange_refresh_token' | 'other';

const isTokenEndpoint = (r: RecordedRequest) => /\/oauth2\/token\/?$/i.test(r.path);

/**
 * The grant of a token-endpoint request, read from its parameter names (the log keeps names, not
 * values): a code → authorization_code; a refresh token with a redirect_uri → exchange (§3: only the
 * exchange needs one); a refresh token alone → refresh_token.
 */
export function grantOf(r: RecordedRequest): TokenGrant {
  const keys = new Set([...r.bodyKeys, ...r.queryKeys]);
  if (keys.has('code')) return 'authorization_code';
  if (keys.has('refresh_token')) return keys.has('redirect_uri') ? 'exchange_refresh_token' : 'refresh_token';
  return 'other';
}

export function tokenGrants(requests: readonly RecordedRequest[]): TokenGrant[] {
  return requests.filter(isTokenEndpoint).map(grantOf);
}

export function count<T>(items: readonly T[], value: T): number {
  return items.filter((x) => x === value).length;
}

/** Requests that reached `origin` + a path containing `pathPart` (case-insensitive). */
export function requestsTo(
  requests: readonly RecordedRequest[],
  origin: string,
  pathPart = '',
): RecordedRequest[] {
  const p = pathPart.toLowerCase();
  return requests.filter((r) => r.origin === origin && r.path.toLowerCase().includes(p));
}

/** Origin and path of a URL, for matching log entries. */
export function originAndPath(url: string): { origin: string; path: string } {
  const u = new URL(url);
  return { origin: u.origin, path: u.pathname };
}

/** POSTs to a sandbox admin endpoint (`/__sandbox/<path>`), as a test harness outside the process would. */
export async function admin(sandbox: RunningSandbox, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sandbox.info.adminUrl}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox admin ${path}: HTTP ${res.status}`);
  return res.json();
}

/** The parts of arcgis_query's structuredContent the e2e tests read. */
export type QueryOut = { accessedAs: string; returned: number; count: number | null };
