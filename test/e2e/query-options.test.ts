import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { alice, removeDir, serverEnv, signInOob, tempConfigDir } from '../helpers/e2e-kit.js';
import { spawnServer, textOf, type SpawnedServer } from '../helpers/mcp-client.js';

/**
 * arcgis_query beyond rows: statistics computed by ArcGIS (outStatistics + groupBy) and a bounding
 * box filter, checked against the rows themselves so the figures cannot be made up.
 */
type Out = {
  returned: number;
  count: number | null;
  hasMore: boolean;
  features: Array<Record<string, unknown>>;
};

describe('e2e: arcgis_query statistics and bounding box', () => {
  let sandbox: RunningSandbox;
  let server: SpawnedServer;
  let dir: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    dir = tempConfigDir();
    server = await spawnServer(serverEnv(sandbox, dir, { ARCGIS_TOKEN_STORE: 'memory' }));
    await signInOob(server, alice(sandbox));
  });
  afterAll(async () => {
    await server?.close();
    await sandbox?.close();
    removeDir(dir);
  });

  const query = async (args: Record<string, unknown>) => {
    const r = await server.call('arcgis_query', args);
    expect(r.isError, textOf(r)).toBeFalsy();
    return r.structuredContent as Out;
  };

  it('sums and counts per group equal what the rows add up to', async () => {
    const rows = await query({
      url: sandbox.info.services.private,
      outFields: ['STATUS', 'CAPACITY'],
      limit: 10_000,
    });
    expect(rows.hasMore).toBe(false);
    const expected = new Map<string, { n: number; sum: number }>();
    for (const f of rows.features) {
      const key = String(f.STATUS);
      const e = expected.get(key) ?? { n: 0, sum: 0 };
      e.n += 1;
      e.sum += typeof f.CAPACITY === 'number' ? f.CAPACITY : 0;
      expected.set(key, e);
    }
    const stats = await query({
      url: sandbox.info.services.private,
      statistics: [
        { type: 'sum', field: 'CAPACITY', as: 'total_capacity' },
        { type: 'count', field: 'OBJECTID', as: 'shelters' },
      ],
      groupBy: ['STATUS'],
    });
    expect(stats.returned).toBe(expected.size);
    for (const row of stats.features) {
      const e = expected.get(String(row.STATUS));
      expect(e, `group ${String(row.STATUS)}`).toBeDefined();
      expect(row.shelters).toBe(e!.n);
      expect(row.total_capacity).toBe(e!.sum);
    }
  });

  it('a bounding box keeps exactly the features inside it', async () => {
    const all = await query({ url: sandbox.info.services.public, returnGeometry: true, limit: 1000 });
    const points = all.features.map((f) => f.geometry as { x: number; y: number });
    const xs = points.map((p) => p.x).sort((a, b) => a - b);
    const ys = points.map((p) => p.y).sort((a, b) => a - b);
    // The south-west quarter of the layer's own extent: some features in, some out.
    const box: [number, number, number, number] = [
      xs[0]!,
      ys[0]!,
      xs[Math.floor(xs.length / 2)]!,
      ys[Math.floor(ys.length / 2)]!,
    ];
    const inside = points.filter((p) => p.x >= box[0] && p.x <= box[2] && p.y >= box[1] && p.y <= box[3]);
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.length).toBeLessThan(points.length);
    const counted = await query({ url: sandbox.info.services.public, bbox: box, returnCountOnly: true });
    expect(counted.count).toBe(inside.length);
    const rows = await query({
      url: sandbox.info.services.public,
      bbox: box,
      returnGeometry: true,
      limit: 1000,
    });
    expect(rows.returned).toBe(inside.length);
  });

  it('REL-BAD-INPUT: groupBy without statistics, an inverted box and an unknown statistics field are clear errors', async () => {
    const g = await server.call('arcgis_query', { url: sandbox.info.services.private, groupBy: ['STATUS'] });
    expect(g.isError).toBe(true);
    expect(textOf(g)).toMatch(/groupBy works only together with statistics/);
    const b = await server.call('arcgis_query', { url: sandbox.info.services.public, bbox: [10, 10, 0, 0] });
    expect(b.isError).toBe(true);
    expect(textOf(b)).toMatch(/west ≤ east/);
    const f = await server.call('arcgis_query', {
      url: sandbox.info.services.private,
      statistics: [{ type: 'sum', field: 'NOT_A_FIELD' }],
    });
    expect(f.isError).toBe(true);
    expect(textOf(f)).toMatch(/ARCGIS_BAD_REQUEST/);
    expect(textOf(f)).toMatch(/Next step/);
  });
});
