import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createSecretStore, probeSecretService } from '../src/auth/store/create-secret-store.js';
import { stopKeychainHelper } from '../src/auth/store/keychain-helper.js';
import type { SecretStore, SecretStoreKind } from '../src/auth/store/secret-store.js';
import { startSandbox } from '../src/sandbox/sandbox.js';
import type { RecordedRequest, RunningSandbox } from '../src/sandbox/sandbox.js';
import {
  assertBuilt,
  BenchCallError,
  describeTrips,
  isRefreshGrant,
  signIn,
  spawnServer,
  withRequests,
} from './harness.js';
import type { BenchServer, ServerEnv } from './harness.js';
import { describeCounts, fmtMs, ratio, round, summarize } from './stats.js';

/**
 * `npm run bench`: latency and round trips of the built server, driven over stdio by the MCP SDK
 * client against the in-process sandbox. Prints medians and p90, ratios measured side by side in
 * this run, a markdown table for the README, and writes bench/results.json. It reports numbers; it
 * never passes or fails on them (it exits non-zero only when a call errors).
 */

const RESULTS_FILE = fileURLToPath(new URL('../../bench/results.json', import.meta.url));

interface Row {
  label: string;
  n: number;
  medianMs: number;
  p90Ms: number;
  /** Sandbox requests per call (or per batch), as counted from sandbox.requests. */
  requests?: string;
  note?: string;
}
interface RatioRow {
  label: string;
  value: number;
  note?: string;
}
interface Section {
  id: number;
  title: string;
  why: string;
  rows: Row[];
  ratios: RatioRow[];
  /** Round trips of one representative call, in order. */
  trips: Record<string, string>;
  skipped?: string;
}

const sections: Section[] = [];
const openServers = new Set<BenchServer>();
const benchStart = performance.now();
const loadAtStart = loadavg();

function section(id: number, title: string, why: string): Section {
  const s: Section = { id, title, why, rows: [], ratios: [], trips: {} };
  sections.push(s);
  console.error(`\n[${elapsed()}] ${id}. ${title}`);
  return s;
}

function elapsed(): string {
  return `${((performance.now() - benchStart) / 1000).toFixed(1)}s`;
}

function row(
  label: string,
  samples: readonly number[],
  extra: { requests?: string; note?: string } = {},
): Row {
  const s = summarize(samples);
  const r: Row = { label, n: s.n, medianMs: round(s.median, 3), p90Ms: round(s.p90, 3) };
  if (extra.requests !== undefined) r.requests = extra.requests;
  if (extra.note !== undefined) r.note = extra.note;
  return r;
}

function med(samples: readonly number[]): number {
  return summarize(samples).median;
}

/** Repeats `fn` up to `n` times, but stops after `budgetMs` once at least `minN` samples exist. */
async function repeat(
  n: number,
  budgetMs: number,
  fn: (i: number) => Promise<void>,
  minN = 5,
): Promise<number> {
  const t0 = performance.now();
  let i = 0;
  for (; i < n; i++) {
    if (i >= minN && performance.now() - t0 > budgetMs) break;
    await fn(i);
  }
  return i;
}

async function open(
  env: ServerEnv,
): Promise<{ server: BenchServer; toolsListMs: number; initializeMs: number }> {
  const { server, timings } = await spawnServer(env);
  openServers.add(server);
  return { server, ...timings };
}

async function shut(server: BenchServer): Promise<void> {
  openServers.delete(server);
  await server.close();
}

function countWhere(requests: readonly RecordedRequest[], pred: (r: RecordedRequest) => boolean): number {
  return requests.filter(pred).length;
}

async function main(): Promise<void> {
  assertBuilt();
  const root = mkdtempSync(join(tmpdir(), 'arcgis-mcp-bench-'));
  const sandbox = await startSandbox();
  // A second sandbox whose access tokens live 300 s: always inside the 5-minute refresh margin,
  // so every call wants a proactive refresh (REL-PROACTIVE + REL-SINGLE-FLIGHT, section 7).
  const shortSandbox = await startSandbox({ tokenTtlSeconds: 300 });
  const probe = await probeSecretService();
  const keychainReason = probe.available ? null : (probe.reason ?? 'no Secret Service');
  console.error(
    `sandbox ${sandbox.info.portalUrl}; Secret Service: ${probe.available ? 'available' : `unavailable (${keychainReason})`}`,
  );
  const user = sandbox.info.users.find((u) => u.username === 'alice') ?? sandbox.info.users[0];
  if (!user) throw new Error('the sandbox has no users');
  const { services } = sandbox.info;
  const dir = (name: string): string => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const envFor = (store: SecretStoreKind, configDir: string, sb: RunningSandbox = sandbox): ServerEnv => ({
    portalUrl: sb.info.portalUrl,
    clientId: sb.info.clientId,
    store,
    configDir,
  });
  /** Which store kinds wrote an entry for which portal, for the clean-up. */
  const usedStores: Array<{ kind: SecretStoreKind; configDir: string; portalUrl: string }> = [];
  const publicQuery = { url: services.public, limit: 100 };
  const privateQuery = { url: services.private, limit: 100 };

  try {
    // ---------------------------------------------------------------------------------------
    {
      const s = section(
        1,
        'Server cold start: spawn → initialize → tools/list',
        'What every MCP client pays when it launches the server (Claude Desktop starts it with the app).',
      );
      const kinds: SecretStoreKind[] = [
        'memory',
        'file',
        ...(probe.available ? (['keychain'] as const) : []),
      ];
      const dirs = Object.fromEntries(kinds.map((k) => [k, dir(`cold-${k}`)])) as Record<
        SecretStoreKind,
        string
      >;
      const list: Record<string, number[]> = {};
      const init: Record<string, number[]> = {};
      for (const k of kinds) {
        // Warm-up: disk cache, first keychain helper.
        const w = await open(envFor(k, dirs[k]));
        await shut(w.server);
        list[k] = [];
        init[k] = [];
      }
      await repeat(15, 25_000, async () => {
        for (const k of kinds) {
          const o = await open(envFor(k, dirs[k]));
          list[k]?.push(o.toolsListMs);
          init[k]?.push(o.initializeMs);
          await shut(o.server);
        }
      });
      for (const k of kinds) {
        s.rows.push(
          row(`store=${k}${k === 'memory' ? '' : ' (start reads the store: no entry)'}`, list[k] ?? [], {
            note: `initialize alone: median ${fmtMs(med(init[k] ?? []))} ms`,
          }),
        );
      }
      if (!probe.available)
        s.rows.push({
          label: 'store=keychain',
          n: 0,
          medianMs: NaN,
          p90Ms: NaN,
          note: `skipped: ${keychainReason}`,
        });
      for (const k of kinds) {
        if (k !== 'memory')
          s.ratios.push({
            label: `cold start store=${k} / store=memory`,
            value: round(ratio(med(list[k] ?? []), med(list.memory ?? [])), 2),
          });
      }
    }

    // ---------------------------------------------------------------------------------------
    {
      const s = section(
        2,
        'arcgis_query, public layer, limit 100: first call vs later calls',
        'NET-PUBLIC-FIRST memory + layer-info cache: the anonymous probe and the layer description cost a round trip once per process, not per call.',
      );
      const d = dir('public');
      // Warm-up process (discarded).
      {
        const w = await open(envFor('memory', d));
        for (let i = 0; i < 5; i++) await w.server.call('arcgis_query', publicQuery);
        await shut(w.server);
      }
      for (const latency of [0, 20]) {
        sandbox.faults.latencyMs = latency;
        const first: number[] = [];
        const later: number[] = [];
        const firstReq: number[] = [];
        const laterReq: number[] = [];
        const warmFirst: number[] = [];
        const warmFirstReq: number[] = [];
        await repeat(12, latency === 0 ? 12_000 : 15_000, async (i) => {
          // Alternate: odd servers query another public layer first, so that their first call
          // to this layer pays the round trips but not the process's own warm-up (JIT, sockets).
          const o = await open(envFor('memory', d));
          if (i % 2 === 1) {
            await o.server.call('arcgis_query', { url: services.noPagination, limit: 100 });
            const w = await withRequests(sandbox, () => o.server.call('arcgis_query', publicQuery));
            warmFirst.push(w.ms);
            warmFirstReq.push(w.requests.length);
          } else {
            const f = await withRequests(sandbox, () => o.server.call('arcgis_query', publicQuery));
            first.push(f.ms);
            firstReq.push(f.requests.length);
            if (i === 0) s.trips[`first call (latency ${latency} ms)`] = describeTrips(f.requests);
          }
          for (let j = 0; j < 15; j++) {
            const l = await withRequests(sandbox, () => o.server.call('arcgis_query', publicQuery));
            later.push(l.ms);
            laterReq.push(l.requests.length);
            if (i === 0 && j === 0) s.trips[`later call (latency ${latency} ms)`] = describeTrips(l.requests);
          }
          await shut(o.server);
        });
        const lat =
          latency === 0 ? 'sandbox latency 0' : `sandbox latency ${latency} ms/request (simulated WAN)`;
        s.rows.push(
          row(`first call in a fresh server, ${lat}`, first, { requests: describeCounts(firstReq) }),
        );
        s.rows.push(
          row(`first call to this layer in a warm server, ${lat}`, warmFirst, {
            requests: describeCounts(warmFirstReq),
            note: 'another public layer was queried before',
          }),
        );
        s.rows.push(row(`later calls, ${lat}`, later, { requests: describeCounts(laterReq) }));
        s.ratios.push({
          label: `first (fresh server) / later, ${lat}`,
          value: round(ratio(med(first), med(later)), 2),
        });
        s.ratios.push({
          label: `first (warm server) / later, ${lat}`,
          value: round(ratio(med(warmFirst), med(later)), 2),
          note: 'the cost of the extra round trip alone',
        });
      }
      sandbox.faults.latencyMs = 0;
    }

    // ---------------------------------------------------------------------------------------
    let privateFirstAfterSignIn = NaN;
    {
      const s = section(
        3,
        'arcgis_query, private layer signed in, limit 100 (vs public, alternated in the same servers)',
        'Once a service is known to need a token, each query is one round trip with the token: no anonymous probe, no 499 first.',
      );
      const d = dir('private');
      const first: number[] = [];
      const firstReq: number[] = [];
      const priv: number[] = [];
      const privReq: number[] = [];
      const pub: number[] = [];
      const pubReq: number[] = [];
      await repeat(8, 15_000, async (i) => {
        const o = await open(envFor('memory', d));
        await signIn(o.server, user.username, user.password);
        const f = await withRequests(sandbox, () => o.server.call('arcgis_query', privateQuery));
        first.push(f.ms);
        firstReq.push(f.requests.length);
        if (i === 0) s.trips['first private call after sign-in'] = describeTrips(f.requests);
        await o.server.call('arcgis_query', publicQuery); // the public layer's own first call, not timed
        for (let j = 0; j < 15; j++) {
          const p = await withRequests(sandbox, () => o.server.call('arcgis_query', privateQuery));
          priv.push(p.ms);
          privReq.push(p.requests.length);
          if (i === 0 && j === 0) s.trips['later private call'] = describeTrips(p.requests);
          const q = await withRequests(sandbox, () => o.server.call('arcgis_query', publicQuery));
          pub.push(q.ms);
          pubReq.push(q.requests.length);
        }
        await shut(o.server);
      });
      privateFirstAfterSignIn = med(first);
      s.rows.push(
        row('private: first call after sign-in (fresh server)', first, {
          requests: describeCounts(firstReq),
        }),
      );
      s.rows.push(row('private: later calls', priv, { requests: describeCounts(privReq) }));
      s.rows.push(
        row('public: later calls (alternated with the private ones)', pub, {
          requests: describeCounts(pubReq),
        }),
      );
      s.ratios.push({ label: 'private later / public later', value: round(ratio(med(priv), med(pub)), 2) });
      s.ratios.push({
        label: 'private first (after sign-in) / private later',
        value: round(ratio(med(first), med(priv)), 2),
      });
    }

    // ---------------------------------------------------------------------------------------
    {
      const s = section(
        4,
        'Paging the large layer (100,000 rows, maxRecordCount 2000), signed in',
        'A 10,000-row answer is 5 server pages plus a large MCP result: the worst case a model can ask for.',
      );
      const o = await open(envFor('memory', dir('paging')));
      await signIn(o.server, user.username, user.password);
      const big = { url: services.large, limit: 10_000 };
      const warm = await withRequests(sandbox, () => o.server.call('arcgis_query', big));
      s.trips['first limit 10000 call (warm-up, not timed)'] = describeTrips(warm.requests);
      const returned = (warm.value.structuredContent as { returned?: number } | undefined)?.returned;
      if (returned !== 10_000) throw new BenchCallError(`limit 10000 returned ${String(returned)} rows`);
      const resultBytes = Buffer.byteLength(JSON.stringify(warm.value));
      const times: number[] = [];
      const reqs: number[] = [];
      await repeat(15, 30_000, async (i) => {
        const r = await withRequests(sandbox, () => o.server.call('arcgis_query', big));
        times.push(r.ms);
        reqs.push(r.requests.length);
        if (i === 0) s.trips['later limit 10000 call'] = describeTrips(r.requests);
      });
      const rowsPerSec = 10_000 / (med(times) / 1000);
      s.rows.push(
        row('limit 10000 (5 pages)', times, {
          requests: describeCounts(reqs),
          note: `${Math.round(rowsPerSec).toLocaleString('en-US')} rows/s; MCP result ${(resultBytes / 1e6).toFixed(1)} MB`,
        }),
      );
      const page: number[] = [];
      await o.server.call('arcgis_query', { url: services.large, limit: 2000 });
      await repeat(15, 10_000, async () => {
        page.push(
          (
            await withRequests(sandbox, () =>
              o.server.call('arcgis_query', { url: services.large, limit: 2000 }),
            )
          ).ms,
        );
      });
      s.rows.push(
        row('limit 2000 (1 page), for scale', page, {
          note: `${Math.round(2000 / (med(page) / 1000)).toLocaleString('en-US')} rows/s`,
        }),
      );
      const count: number[] = [];
      const countReq: number[] = [];
      for (let i = 0; i < 3; i++)
        await o.server.call('arcgis_query', { url: services.large, returnCountOnly: true });
      await repeat(100, 6_000, async () => {
        const r = await withRequests(sandbox, () =>
          o.server.call('arcgis_query', { url: services.large, returnCountOnly: true }),
        );
        count.push(r.ms);
        countReq.push(r.requests.length);
      });
      s.rows.push(row('returnCountOnly (100,000)', count, { requests: describeCounts(countReq) }));
      s.ratios.push({ label: 'limit 10000 / limit 2000', value: round(ratio(med(times), med(page)), 2) });
      s.ratios.push({
        label: 'limit 10000 / returnCountOnly',
        value: round(ratio(med(times), med(count)), 1),
      });
      await shut(o.server);
    }

    // ---------------------------------------------------------------------------------------
    {
      const kind: SecretStoreKind = probe.available ? 'keychain' : 'file';
      const s = section(
        5,
        `Session restore (refresh token in the ${kind} store): first private query vs a warm server`,
        'After a restart the user is not asked to sign in again: one refresh_token grant, then the query.',
      );
      const d = dir('restore');
      usedStores.push({ kind, configDir: d, portalUrl: sandbox.info.portalUrl });
      {
        const o = await open(envFor(kind, d));
        await signIn(o.server, user.username, user.password);
        await shut(o.server);
      }
      const cold: number[] = [];
      const coldMemory: number[] = [];
      const first: number[] = [];
      const firstReq: number[] = [];
      const grants: number[] = [];
      const warm: number[] = [];
      const warmReq: number[] = [];
      const memoryDir = dir('restore-baseline');
      await repeat(10, 20_000, async (i) => {
        // Side by side: a start with nothing to restore (store=memory), then one that restores.
        const b = await open(envFor('memory', memoryDir));
        coldMemory.push(b.toolsListMs);
        await shut(b.server);
        const o = await open(envFor(kind, d));
        cold.push(o.toolsListMs);
        const f = await withRequests(sandbox, () => o.server.call('arcgis_query', privateQuery));
        first.push(f.ms);
        firstReq.push(f.requests.length);
        grants.push(countWhere(f.requests, isRefreshGrant));
        if (i === 0) s.trips['first private call after restore'] = describeTrips(f.requests);
        for (let j = 0; j < 8; j++) {
          const w = await withRequests(sandbox, () => o.server.call('arcgis_query', privateQuery));
          warm.push(w.ms);
          warmReq.push(w.requests.length);
        }
        await shut(o.server);
      });
      s.rows.push(row(`cold start with a stored session (store=${kind})`, cold));
      s.rows.push(row('cold start, nothing to restore (store=memory, alternated)', coldMemory));
      s.ratios.push({
        label: `cold start with a stored session (${kind}) / store=memory`,
        value: round(ratio(med(cold), med(coldMemory)), 2),
      });
      s.rows.push(
        row('first private query after restore', first, {
          requests: describeCounts(firstReq),
          note: `refresh_token grants per first query: ${describeCounts(grants)}`,
        }),
      );
      s.rows.push(row('private query, same server warm', warm, { requests: describeCounts(warmReq) }));
      s.ratios.push({ label: 'first after restore / warm', value: round(ratio(med(first), med(warm)), 2) });
      s.ratios.push({
        label: 'first after restore / first after sign-in (section 3)',
        value: round(ratio(med(first), privateFirstAfterSignIn), 2),
        note: 'the difference is about one refresh_token grant',
      });
    }

    // ---------------------------------------------------------------------------------------
    {
      const s = section(
        6,
        'Secret store: get / set / delete of a ~300-byte session record, side by side',
        'The refresh token is read at every start and written at every sign-in and rotation (STORE-KEYCHAIN-FIRST).',
      );
      const d = dir('stores');
      const stores: SecretStore[] = [
        ...(probe.available ? [createSecretStore('keychain', { configDir: d })] : []),
        createSecretStore('file', { configDir: d }),
        createSecretStore('memory', { configDir: d }),
      ];
      const account = `bench-${process.pid}-store@${sandbox.info.portalUrl}`;
      for (const st of stores) usedStores.push({ kind: st.kind, configDir: d, portalUrl: '' });
      const value = JSON.stringify({
        v: 1,
        portalUrl: `${sandbox.info.portalUrl}/`,
        clientId: sandbox.info.clientId,
        username: user.username,
        refreshToken: 'bench-not-a-token-'.padEnd(180, 'x'),
        refreshExpiresAt: Date.now() + 14 * 86400_000,
        savedAt: Date.now(),
      });
      const t: Record<string, number[]> = {};
      const op = async (st: SecretStore, name: 'set' | 'get' | 'delete', record: boolean) => {
        const t0 = performance.now();
        if (name === 'set') await st.set(account, value);
        else if (name === 'get') {
          if ((await st.get(account)) !== value)
            throw new BenchCallError(`${st.kind} store: get did not read back`);
        } else if (!(await st.delete(account)))
          throw new BenchCallError(`${st.kind} store: delete found nothing`);
        const ms = performance.now() - t0;
        if (record) (t[`${st.kind}.${name}`] ??= []).push(ms);
      };
      for (let i = 0; i < 5; i++)
        for (const st of stores) for (const n of ['set', 'get', 'delete'] as const) await op(st, n, false);
      await repeat(60, 12_000, async () => {
        for (const st of stores) for (const n of ['set', 'get', 'delete'] as const) await op(st, n, true);
      });
      for (const n of ['get', 'set', 'delete'] as const) {
        if (!probe.available)
          s.rows.push({
            label: `keychain ${n}`,
            n: 0,
            medianMs: NaN,
            p90Ms: NaN,
            note: `skipped: ${keychainReason}`,
          });
        for (const st of stores) s.rows.push(row(`${st.kind} ${n}`, t[`${st.kind}.${n}`] ?? []));
      }
      for (const n of ['get', 'set', 'delete'] as const) {
        if (probe.available)
          s.ratios.push({
            label: `keychain / file, ${n}`,
            value: round(ratio(med(t[`keychain.${n}`] ?? []), med(t[`file.${n}`] ?? [])), 1),
          });
        s.ratios.push({
          label: `file / memory, ${n}`,
          value: round(ratio(med(t[`file.${n}`] ?? []), med(t[`memory.${n}`] ?? [])), 0),
        });
      }
      if (!probe.available) s.skipped = `keychain: ${keychainReason}`;
    }

    // ---------------------------------------------------------------------------------------
    {
      const s = section(
        7,
        'REL-SINGLE-FLIGHT: 20 concurrent private queries when the access token is no longer valid',
        'Twenty parallel tool calls after an expiry must cost one refresh, not twenty (and not twenty rotations).',
      );
      const o = await open(envFor('memory', dir('single-flight')));
      await signIn(o.server, user.username, user.password);
      for (let i = 0; i < 3; i++) await o.server.call('arcgis_query', privateQuery);
      const batch = async () => {
        const per: number[] = [];
        const r = await withRequests(sandbox, () =>
          Promise.all(
            Array.from({ length: 20 }, async () => {
              const t0 = performance.now();
              await o.server.call('arcgis_query', privateQuery);
              per.push(performance.now() - t0);
            }),
          ),
        );
        return { per, wall: r.ms, requests: r.requests };
      };
      const basePer: number[] = [];
      const baseWall: number[] = [];
      const baseReq: number[] = [];
      const expPer: number[] = [];
      const expWall: number[] = [];
      const expReq: number[] = [];
      const expGrants: number[] = [];
      const rejected: number[] = [];
      await batch(); // warm-up
      await repeat(10, 15_000, async (i) => {
        const b = await batch();
        basePer.push(...b.per);
        baseWall.push(b.wall);
        baseReq.push(b.requests.length);
        const expired = sandbox.expireAccessTokens();
        if (expired < 1) throw new BenchCallError('the sandbox expired no access token');
        const e = await batch();
        expPer.push(...e.per);
        expWall.push(e.wall);
        expReq.push(e.requests.length);
        expGrants.push(countWhere(e.requests, isRefreshGrant));
        rejected.push(countWhere(e.requests, (r) => r.tokenKind === 'invalid'));
        if (i === 0) {
          const kinds = new Map<string, number>();
          for (const t of describeTrips(e.requests).split(' → ')) kinds.set(t, (kinds.get(t) ?? 0) + 1);
          s.trips['one expired batch (counts)'] = [...kinds].map(([k, v]) => `${v}× ${k}`).join(', ');
        }
      });
      await shut(o.server);
      s.rows.push(
        row('per query, valid token (baseline batch of 20)', basePer, {
          requests: `${describeCounts(baseReq)} per batch`,
        }),
      );
      s.rows.push(
        row('per query, token expired at the portal (reactive: 498 → refresh → retry)', expPer, {
          requests: `${describeCounts(expReq)} per batch`,
          note: `refresh_token grants per batch: ${describeCounts(expGrants)}; requests rejected as expired: ${describeCounts(rejected)}`,
        }),
      );
      s.rows.push(row('batch wall time, valid token', baseWall));
      s.rows.push(row('batch wall time, expired token', expWall));
      s.ratios.push({
        label: 'expired / valid, per-query median',
        value: round(ratio(med(expPer), med(basePer)), 2),
      });
      s.ratios.push({
        label: 'expired / valid, batch wall time',
        value: round(ratio(med(expWall), med(baseWall)), 2),
      });

      // Proactive path: tokens that live 300 s are always within the 5-minute margin.
      const p = await open(envFor('memory', dir('single-flight-proactive'), shortSandbox));
      await signIn(p.server, user.username, user.password);
      for (let i = 0; i < 2; i++)
        await p.server.call('arcgis_query', { url: shortSandbox.info.services.private, limit: 100 });
      const proPer: number[] = [];
      const proReq: number[] = [];
      const proGrants: number[] = [];
      const seqGrants: number[] = [];
      await repeat(8, 8_000, async () => {
        const from = shortSandbox.requests.length;
        const per: number[] = [];
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            const t0 = performance.now();
            await p.server.call('arcgis_query', { url: shortSandbox.info.services.private, limit: 100 });
            per.push(performance.now() - t0);
          }),
        );
        const reqs = shortSandbox.requests.slice(from);
        proPer.push(...per);
        proReq.push(reqs.length);
        proGrants.push(countWhere(reqs, isRefreshGrant));
        const from2 = shortSandbox.requests.length;
        await p.server.call('arcgis_query', { url: shortSandbox.info.services.private, limit: 100 });
        seqGrants.push(countWhere(shortSandbox.requests.slice(from2), isRefreshGrant));
      });
      await shut(p.server);
      s.rows.push(
        row('per query, token inside the 5-min margin (proactive; sandbox token TTL 300 s)', proPer, {
          requests: `${describeCounts(proReq)} per batch`,
          note: `refresh_token grants per batch of 20: ${describeCounts(proGrants)}; per single sequential call: ${describeCounts(seqGrants)}`,
        }),
      );
    }
  } finally {
    for (const s of openServers) await s.close().catch(() => undefined);
    for (const portalUrl of [sandbox.info.portalUrl, shortSandbox.info.portalUrl]) {
      for (const u of usedStores) {
        const st = createSecretStore(u.kind, { configDir: u.configDir });
        await st.delete(`default@${portalUrl}`).catch(() => false);
      }
    }
    for (const u of usedStores) {
      await createSecretStore(u.kind, { configDir: u.configDir })
        .delete(`bench-${process.pid}-store@${sandbox.info.portalUrl}`)
        .catch(() => false);
    }
    stopKeychainHelper();
    rmSync(root, { recursive: true, force: true });
    await sandbox.close();
    await shortSandbox.close();
  }

  report(probe.available, keychainReason);
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

function report(keychain: boolean, keychainReason: string | null): void {
  const totalS = (performance.now() - benchStart) / 1000;
  const cpu = cpus();
  const env = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    secretService: keychain ? 'available' : `unavailable: ${keychainReason}`,
    benchSeconds: round(totalS, 1),
    loadAverage1m: { start: round(loadAtStart[0] ?? NaN, 2), end: round(loadavg()[0] ?? NaN, 2) },
  };

  // Plain-text report (stdout).
  const lines: string[] = [];
  lines.push('');
  lines.push(
    `arcgis-mcp bench — ${env.date} — commit ${env.commit ?? '?'} — Node ${env.node}, ${env.cpus} — load average ${env.loadAverage1m.start} → ${env.loadAverage1m.end}`,
  );
  for (const s of sections) {
    lines.push('');
    lines.push(`${s.id}. ${s.title}`);
    lines.push(`   why: ${s.why}`);
    const w = Math.max(...s.rows.map((r) => r.label.length), 10);
    lines.push(
      `   ${'case'.padEnd(w)}  ${'n'.padStart(4)}  ${'median ms'.padStart(10)}  ${'p90 ms'.padStart(9)}  requests`,
    );
    for (const r of s.rows) {
      lines.push(
        `   ${r.label.padEnd(w)}  ${String(r.n).padStart(4)}  ${fmtMs(r.medianMs).padStart(10)}  ${fmtMs(r.p90Ms).padStart(9)}  ${r.requests ?? ''}${r.note ? `  (${r.note})` : ''}`,
      );
    }
    for (const r of s.ratios)
      lines.push(
        `   ratio ${r.label}: ${Number.isFinite(r.value) ? `${r.value}×` : '–'}${r.note ? ` (${r.note})` : ''}`,
      );
    for (const [k, v] of Object.entries(s.trips)) lines.push(`   trips, ${k}: ${v}`);
  }
  lines.push('');
  lines.push(`total ${totalS.toFixed(1)} s`);

  // Markdown for the README.
  const md: string[] = [];
  md.push(
    `Last run: ${env.date.slice(0, 10)}, commit \`${env.commit ?? '?'}\`, Node ${env.node}, ${env.cpus}, sandbox on 127.0.0.1 (bench took ${totalS.toFixed(0)} s; 1-min load average ${env.loadAverage1m.start} at start, ${env.loadAverage1m.end} at end). Medians and p90 in ms; "requests" counts sandbox round trips per call.`,
  );
  md.push('');
  md.push('| # | case | n | median ms | p90 ms | requests | notes |');
  md.push('|---|---|--:|--:|--:|---|---|');
  for (const s of sections) {
    for (const r of s.rows) {
      md.push(
        `| ${s.id} | ${r.label} | ${r.n} | ${fmtMs(r.medianMs)} | ${fmtMs(r.p90Ms)} | ${r.requests ?? ''} | ${r.note ?? ''} |`,
      );
    }
  }
  md.push('');
  md.push('| # | ratio (measured side by side in the same run) | value |');
  md.push('|---|---|--:|');
  for (const s of sections)
    for (const r of s.ratios)
      md.push(
        `| ${s.id} | ${r.label}${r.note ? ` (${r.note})` : ''} | ${Number.isFinite(r.value) ? `${r.value}×` : '–'} |`,
      );
  md.push('');
  md.push('Why each matters:');
  md.push('');
  for (const s of sections) md.push(`${s.id}. **${s.title}**: ${s.why}`);

  process.stdout.write(`${lines.join('\n')}\n\n--- markdown for the README ---\n\n${md.join('\n')}\n`);

  const results = { environment: env, sections, markdown: md.join('\n') };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`\nwrote ${RESULTS_FILE}\n`);
}

main().catch((e: unknown) => {
  console.error(`\nbench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
