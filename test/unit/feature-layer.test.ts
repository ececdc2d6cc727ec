import { describe, expect, it } from 'vitest';
import type { Params } from '../../src/arcgis/http-client.js';
import {
  collectRows,
  parseCount,
  parseLayerInfo,
  parseObjectIds,
  parseQueryPage,
  type CollectResult,
  type LayerInfo,
  type QueryOptions,
} from '../../src/arcgis/feature-layer.js';
import { ArcGisMcpError } from '../../src/errors.js';

/**
 * A fake layer of `total` rows (OBJECTID 1..total) that answers query parameters the way an
 * ArcGIS feature service does (arcgis-protocol.md §8), with switches for the quirks of §11–12.
 */
interface FakeLayerOptions {
  total: number;
  /** What the server really caps a page at (may differ from what the layer advertises, §12). */
  serverCap: number;
  ignoresOffset?: boolean;
  ids?: Array<number | string>;
}

function fakeLayer(o: FakeLayerOptions) {
  const ids = o.ids ?? Array.from({ length: o.total }, (_, i) => i + 1);
  const rows = ids.map((id) => ({ attributes: { OBJECTID: id } }));
  const calls: Params[] = [];
  const fetchJson = async (params: Params): Promise<unknown> => {
    calls.push(params);
    if (params.returnIdsOnly === true) return { objectIdFieldName: 'OBJECTID', objectIds: ids };
    if (typeof params.objectIds === 'string') {
      const wanted = new Set(params.objectIds.split(','));
      const picked = rows.filter((r) => wanted.has(String(r.attributes.OBJECTID))).slice(0, o.serverCap);
      return { objectIdFieldName: 'OBJECTID', fields: [{ name: 'OBJECTID' }], features: picked };
    }
    const offset = o.ignoresOffset ? 0 : Number(params.resultOffset ?? 0);
    const count = Math.min(Number(params.resultRecordCount ?? o.serverCap), o.serverCap);
    const page = rows.slice(offset, offset + count);
    return {
      objectIdFieldName: 'OBJECTID',
      ...(page.length > 0 ? { fields: [{ name: 'OBJECTID' }] } : {}),
      features: page,
      exceededTransferLimit: offset + page.length < rows.length,
    };
  };
  return { fetchJson, calls };
}

const options: QueryOptions = {
  where: '1=1',
  outFields: '*',
  orderByFields: 'OBJECTID ASC',
  returnGeometry: false,
};
const paged = (maxRecordCount: number): LayerInfo => ({
  name: 'Parcels',
  objectIdField: 'OBJECTID',
  maxRecordCount,
  advancedQueryCapabilities: { supportsPagination: true },
});
const unpaged = (maxRecordCount: number): LayerInfo => ({
  name: 'Old',
  objectIdField: 'OBJECTID',
  maxRecordCount,
  advancedQueryCapabilities: { supportsPagination: false },
});
const idsOf = (r: CollectResult) => r.features.map((f) => f.attributes?.OBJECTID);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('collectRows with pagination (resultOffset/resultRecordCount)', () => {
  it('pages across maxRecordCount and returns every row once, in order', async () => {
    const layer = fakeLayer({ total: 250, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 1000 });
    expect(idsOf(r)).toEqual(range(1, 250));
    expect(r.hasMore).toBe(false);
    expect(r.pages).toBe(3);
    expect(layer.calls.map((c) => c.resultOffset)).toEqual([0, 100, 200]);
    for (const c of layer.calls) expect(Number(c.resultRecordCount)).toBeLessThanOrEqual(100);
  });

  it('sends where, outFields, order and returnGeometry on every page', async () => {
    const layer = fakeLayer({ total: 150, serverCap: 100 });
    await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 150 });
    for (const c of layer.calls) {
      expect(c).toMatchObject({
        where: '1=1',
        outFields: '*',
        orderByFields: 'OBJECTID ASC',
        returnGeometry: false,
      });
    }
  });

  it('starts at the requested offset', async () => {
    const layer = fakeLayer({ total: 250, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 120, limit: 30 });
    expect(idsOf(r)).toEqual(range(121, 150));
    expect(r.hasMore).toBe(true);
  });

  it('hasMore is true when rows remain after the limit, even mid-page', async () => {
    const layer = fakeLayer({ total: 250, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 120 });
    expect(r.features).toHaveLength(120);
    expect(r.hasMore).toBe(true);
  });

  it('hasMore is false when the limit ends exactly at the last row of a short page', async () => {
    const layer = fakeLayer({ total: 50, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 50 });
    expect(r.features).toHaveLength(50);
    expect(r.hasMore).toBe(false);
  });

  // Regression: on a full last page the "+1" row cannot be asked for; exceededTransferLimit:false
  // used to be ignored there, reporting more rows with nothing left.
  it('hasMore is false when the limit equals the row count and is a multiple of maxRecordCount', async () => {
    const layer = fakeLayer({ total: 200, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 200 });
    expect(r.features).toHaveLength(200);
    expect(r.hasMore).toBe(false);
  });

  it('stops on a short page without exceededTransferLimit', async () => {
    const layer = fakeLayer({ total: 130, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 10_000 });
    expect(r.features).toHaveLength(130);
    expect(r.pages).toBe(2);
  });

  it('keeps paging when the server caps below the advertised maxRecordCount (§12)', async () => {
    const layer = fakeLayer({ total: 230, serverCap: 50 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 10_000 });
    expect(idsOf(r)).toEqual(range(1, 230));
    expect(r.hasMore).toBe(false);
  });

  it('an empty result is zero rows, no more, one request', async () => {
    const layer = fakeLayer({ total: 0, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 100 });
    expect(r).toMatchObject({ features: [], hasMore: false, pages: 1 });
  });

  it('uses 2000 as the page size when the layer advertises none (§11)', async () => {
    const layer = fakeLayer({ total: 5000, serverCap: 2000 });
    await collectRows(
      layer.fetchJson,
      { name: 'x', advancedQueryCapabilities: { supportsPagination: true } },
      options,
      {
        offset: 0,
        limit: 5000,
      },
    );
    expect(Math.max(...layer.calls.map((c) => Number(c.resultRecordCount)))).toBe(2000);
  });

  it('REL-BAD-INPUT: a server that ignores resultOffset does not make it loop forever', async () => {
    const layer = fakeLayer({ total: 10_000, serverCap: 100, ignoresOffset: true });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 500 });
    // Two offset pages reveal the repeat, then one ids query and five 100-id chunks.
    expect(layer.calls.length).toBeLessThanOrEqual(8);
    expect(r.features.length).toBeLessThanOrEqual(500);
  });

  // Regression: a repeated page (server ignoring resultOffset, §11) used to be returned again and
  // again as if it were new rows.
  it('REL-BAD-INPUT: a server that ignores resultOffset does not yield the same rows twice', async () => {
    const layer = fakeLayer({ total: 1_000, serverCap: 100, ignoresOffset: true });
    const r = await collectRows(layer.fetchJson, paged(100), options, { offset: 0, limit: 300 });
    const ids = idsOf(r);
    expect(new Set(ids).size).toBe(ids.length);
  });

  // Koop and older servers may omit objectIdField from the layer description (§12).
  it('REL-BAD-INPUT: a repeated page is detected from the page objectIdFieldName when the layer names no id field', async () => {
    const layer = fakeLayer({ total: 1_000, serverCap: 100, ignoresOffset: true });
    const { objectIdField: _omit, ...noIdField } = paged(100);
    const r = await collectRows(layer.fetchJson, noIdField, options, { offset: 0, limit: 300 });
    const ids = idsOf(r);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('collectRows without pagination support (object-id paging)', () => {
  it('pages by object ids when the limit exceeds maxRecordCount, with exact hasMore', async () => {
    const layer = fakeLayer({ total: 250, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, unpaged(100), options, { offset: 0, limit: 220 });
    expect(idsOf(r)).toEqual(range(1, 220));
    expect(r.hasMore).toBe(true);
    expect(layer.calls[0]).toMatchObject({ where: '1=1', returnIdsOnly: true });
    for (const c of layer.calls.slice(1)) {
      expect(c.resultOffset).toBeUndefined();
      expect(String(c.objectIds).split(',').length).toBeLessThanOrEqual(100);
    }
  });

  it('honours the offset by object id and reports the order as not applied', async () => {
    const layer = fakeLayer({ total: 250, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, unpaged(100), options, { offset: 240, limit: 100 });
    expect(idsOf(r)).toEqual(range(241, 250));
    expect(r.hasMore).toBe(false);
    expect(r.orderIgnored).toBe(true);
  });

  it('copes with hashed (string) object ids (§12)', async () => {
    const ids = ['f3a9', '01bc', 'zz99', '7e7e', 'aa00'];
    const layer = fakeLayer({ total: ids.length, serverCap: 2, ids });
    const r = await collectRows(layer.fetchJson, unpaged(2), options, { offset: 1, limit: 3 });
    expect(idsOf(r)).toEqual(['01bc', 'zz99', '7e7e']);
    expect(r.hasMore).toBe(true);
  });

  it('a small first window is one plain query without resultOffset', async () => {
    const layer = fakeLayer({ total: 50, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, unpaged(100), options, { offset: 0, limit: 50 });
    expect(r.features).toHaveLength(50);
    expect(layer.calls).toHaveLength(1);
    expect(layer.calls[0]?.resultOffset).toBeUndefined();
    expect(r.hasMore).toBe(false);
  });

  // Regression: the single non-paginated query used to take hasMore from exceededTransferLimit
  // only, dropping the extra rows the server sent without saying so.
  it('without pagination, hasMore is true when the single answer holds more rows than the limit', async () => {
    const layer = fakeLayer({ total: 50, serverCap: 100 });
    const r = await collectRows(layer.fetchJson, unpaged(100), options, { offset: 0, limit: 10 });
    expect(r.features).toHaveLength(10);
    expect(r.hasMore).toBe(true);
  });
});

describe('parsers (REL-BAD-INPUT)', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as ArcGisMcpError).code;
    }
    return undefined;
  };

  it('a service root or a portal page is not a layer: ARCGIS_NOT_A_SERVICE', () => {
    expect(code(() => parseLayerInfo({ currentVersion: 11.1, layers: [] }))).toBe('ARCGIS_NOT_A_SERVICE');
    expect(code(() => parseLayerInfo('hello'))).toBe('ARCGIS_NOT_A_SERVICE');
  });

  it('a layer description is read with its capabilities', () => {
    const info = parseLayerInfo({
      name: 'Parcels',
      type: 'Feature Layer',
      fields: [{ name: 'OBJECTID', type: 'esriFieldTypeOID' }],
      maxRecordCount: 2000,
      advancedQueryCapabilities: { supportsPagination: true, supportsOrderBy: true },
    });
    expect(info.maxRecordCount).toBe(2000);
    expect(info.advancedQueryCapabilities?.supportsPagination).toBe(true);
  });

  it('a page without a features array is ARCGIS_BAD_RESPONSE', () => {
    expect(code(() => parseQueryPage({ count: 3 }))).toBe('ARCGIS_BAD_RESPONSE');
  });

  it('a page without fields (empty result) is fine', () => {
    expect(parseQueryPage({ features: [] }).fields).toBeUndefined();
  });

  it('count and object ids', () => {
    expect(parseCount({ count: 42 })).toBe(42);
    expect(code(() => parseCount({}))).toBe('ARCGIS_BAD_RESPONSE');
    expect(parseObjectIds({ objectIdFieldName: 'OBJECTID', objectIds: null })).toEqual([]);
    expect(parseObjectIds({ objectIds: [3, 1, 2] })).toEqual([3, 1, 2]);
  });
});
