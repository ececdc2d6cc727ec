import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/sandbox.js';
import type { RunningSandbox } from '../../src/sandbox/sandbox.js';
import { getJson, postJson, signIn } from './helpers.js';
import type { Json } from './helpers.js';

describe('layer query', () => {
  let sandbox: RunningSandbox;
  let token: string;
  let all: Json[];
  beforeAll(async () => {
    sandbox = await startSandbox();
    token = (await signIn(sandbox)).access_token;
    all = (await shelters({ outFields: '*' })).features.map((f: Json) => f.attributes);
  });
  afterAll(() => sandbox.close());

  const shelters = (params: Record<string, string>): Promise<Json> =>
    getJson(`${sandbox.info.services.private}/query`, params, { 'X-Esri-Authorization': `Bearer ${token}` });
  const large = (params: Record<string, string>): Promise<Json> =>
    postJson(`${sandbox.info.services.large}/query`, params, { 'X-Esri-Authorization': `Bearer ${token}` });
  const count = async (where: string): Promise<number> =>
    (await shelters({ where, returnCountOnly: 'true' })).count;

  it('returns the §8 page body', async () => {
    const body = await shelters({
      where: "STATUS = 'Open'",
      outFields: 'NAME,STATUS',
      resultRecordCount: '3',
    });
    expect(body.objectIdFieldName).toBe('OBJECTID');
    expect(body.geometryType).toBe('esriGeometryPoint');
    expect(body.spatialReference.wkid).toBe(4326);
    expect(body.fields.map((f: Json) => f.name)).toEqual(['NAME', 'STATUS']);
    expect(body.features).toHaveLength(3);
    expect(Object.keys(body.features[0].attributes)).toEqual(['NAME', 'STATUS']);
    expect(body.features[0].geometry).toEqual({ x: expect.any(Number), y: expect.any(Number) });
    expect(body.exceededTransferLimit).toBe(true);
  });

  it('defaults where to 1=1 and counts everything', async () => {
    expect(all).toHaveLength(320);
    expect(await count('1=1')).toBe(320);
    expect((await shelters({ returnCountOnly: 'true' })).count).toBe(320);
  });

  it('filters with comparisons, AND/OR/NOT and parentheses, matching a reference filter', async () => {
    const expected = all.filter(
      (a) => (a.STATUS === 'Open' && a.CAPACITY >= 300) || (a.CITY === 'Austin' && !(a.CAPACITY < 100)),
    ).length;
    expect(expected).toBeGreaterThan(0);
    expect(
      await count("(STATUS = 'Open' AND CAPACITY >= 300) OR (CITY = 'Austin' AND NOT CAPACITY < 100)"),
    ).toBe(expected);
    expect(await count("status <> 'Open'")).toBe(all.filter((a) => a.STATUS !== 'Open').length);
    expect(await count("STATUS != 'Open'")).toBe(all.filter((a) => a.STATUS !== 'Open').length);
    expect(await count('CAPACITY > 200 AND CAPACITY <= 400')).toBe(
      all.filter((a) => a.CAPACITY > 200 && a.CAPACITY <= 400).length,
    );
  });

  it('supports LIKE with % and _, NOT LIKE, IN, NOT IN, IS NULL, IS NOT NULL, BETWEEN, UPPER', async () => {
    expect(await count("CITY LIKE 'San%'")).toBe(all.filter((a) => a.CITY.startsWith('San')).length);
    expect(await count("CITY LIKE '_aco'")).toBe(all.filter((a) => a.CITY === 'Waco').length);
    expect(await count("CITY NOT LIKE '%o%'")).toBe(all.filter((a) => !a.CITY.includes('o')).length);
    expect(await count("CITY IN ('Houston', 'Dallas')")).toBe(
      all.filter((a) => ['Houston', 'Dallas'].includes(a.CITY)).length,
    );
    expect(await count("CITY NOT IN ('Houston', 'Dallas')")).toBe(
      all.filter((a) => !['Houston', 'Dallas'].includes(a.CITY)).length,
    );
    const nulls = all.filter((a) => a.NOTES === null).length;
    expect(nulls).toBeGreaterThan(0);
    expect(await count('NOTES IS NULL')).toBe(nulls);
    expect(await count('NOTES IS NOT NULL')).toBe(320 - nulls);
    // SQL NULL semantics: a comparison with NULL is neither true nor false.
    expect((await count("NOTES = 'Pets allowed'")) + (await count("NOTES <> 'Pets allowed'"))).toBe(
      320 - nulls,
    );
    expect(await count('CAPACITY BETWEEN 100 AND 200')).toBe(
      all.filter((a) => a.CAPACITY >= 100 && a.CAPACITY <= 200).length,
    );
    expect(await count("UPPER(CITY) = 'HOUSTON'")).toBe(all.filter((a) => a.CITY === 'Houston').length);
  });

  it("reads '' as an escaped quote in string literals", async () => {
    expect(await count("NAME = 'St. Mary''s'")).toBe(0);
    expect(await count("NAME LIKE '%St. Mary%'")).toBe(all.filter((a) => a.NAME.includes('St. Mary')).length);
  });

  it('compares dates with DATE literals and epoch numbers', async () => {
    const cut = Date.UTC(2024, 7, 1);
    const expected = all.filter((a) => a.OPENED >= cut).length;
    expect(await count("OPENED >= DATE '2024-08-01'")).toBe(expected);
    expect(await count(`OPENED >= ${cut}`)).toBe(expected);
  });

  it('answers an unknown field with the exact §2 envelope', async () => {
    expect(await shelters({ where: "NOPE = 'x'" })).toEqual({
      error: {
        code: 400,
        message: 'Cannot perform query. Invalid query parameters.',
        details: ["'Invalid field: NOPE' parameter is invalid"],
      },
    });
    expect((await shelters({ outFields: 'NAME,bogus' })).error.details).toEqual([
      "'Invalid field: bogus' parameter is invalid",
    ]);
    expect((await shelters({ where: "STATUS = 'Open" })).error.code).toBe(400);
    expect((await shelters({ where: 'STATUS = = 1' })).error.message).toBe(
      'Cannot perform query. Invalid query parameters.',
    );
  });

  it('orders by several fields, ascending and descending', async () => {
    const body = await shelters({
      outFields: 'NAME,CITY,CAPACITY',
      orderByFields: 'CITY ASC, CAPACITY DESC',
    });
    const got = body.features.map((f: Json) => f.attributes);
    const sorted = [...got].sort((a, b) =>
      a.CITY < b.CITY ? -1 : a.CITY > b.CITY ? 1 : b.CAPACITY - a.CAPACITY,
    );
    expect(got.map((a: Json) => [a.CITY, a.CAPACITY])).toEqual(sorted.map((a) => [a.CITY, a.CAPACITY]));
  });

  it('returns ids only, uncapped', async () => {
    const body = await large({ where: "CATEGORY = 'Fire'", returnIdsOnly: 'true' });
    const fires = (await large({ where: "CATEGORY = 'Fire'", returnCountOnly: 'true' })).count;
    expect(body.objectIdFieldName).toBe('OBJECTID');
    expect(body.objectIds).toHaveLength(fires);
    expect(fires).toBeGreaterThan(2000);
  });

  it('filters by objectIds', async () => {
    const body = await shelters({ objectIds: '3,1,2', outFields: 'OBJECTID' });
    expect(body.features.map((f: Json) => f.attributes.OBJECTID)).toEqual([1, 2, 3]);
  });

  it('omits geometry with returnGeometry=false and omits fields on an empty result', async () => {
    const noGeom = await shelters({ returnGeometry: 'false', outFields: 'NAME', resultRecordCount: '1' });
    expect(noGeom.features[0].geometry).toBeUndefined();
    const empty = await shelters({ where: "CITY = 'Atlantis'", outFields: '*' });
    expect(empty.features).toEqual([]);
    expect(empty.fields).toBeUndefined();
    expect(empty.exceededTransferLimit).toBeUndefined();
  });

  it('computes statistics with groupBy, matching a reference computation', async () => {
    const body = await shelters({
      where: "STATUS = 'Open'",
      groupByFieldsForStatistics: 'CITY',
      orderByFields: 'CITY',
      outStatistics: JSON.stringify([
        { statisticType: 'count', onStatisticField: 'OBJECTID', outStatisticFieldName: 'n' },
        { statisticType: 'sum', onStatisticField: 'CAPACITY', outStatisticFieldName: 'total' },
        { statisticType: 'min', onStatisticField: 'CAPACITY', outStatisticFieldName: 'smallest' },
        { statisticType: 'max', onStatisticField: 'CAPACITY', outStatisticFieldName: 'largest' },
        { statisticType: 'avg', onStatisticField: 'CAPACITY', outStatisticFieldName: 'mean' },
      ]),
    });
    const open = all.filter((a) => a.STATUS === 'Open');
    const cities = [...new Set(open.map((a) => a.CITY))].sort();
    expect(body.features.map((f: Json) => f.attributes.CITY)).toEqual(cities);
    for (const feature of body.features) {
      const rows = open.filter((a) => a.CITY === feature.attributes.CITY).map((a) => a.CAPACITY);
      const sum = rows.reduce((x, y) => x + y, 0);
      expect(feature.attributes).toMatchObject({
        n: rows.length,
        total: sum,
        smallest: Math.min(...rows),
        largest: Math.max(...rows),
      });
      expect(feature.attributes.mean).toBeCloseTo(sum / rows.length);
    }
    expect(body.fields.map((f: Json) => f.name)).toEqual([
      'CITY',
      'n',
      'total',
      'smallest',
      'largest',
      'mean',
    ]);
  });

  it('answers "how many shelters in Texas are open?" with one statistic', async () => {
    const body = await shelters({
      where: "STATE = 'TX' AND STATUS = 'Open'",
      outStatistics: JSON.stringify([
        { statisticType: 'count', onStatisticField: 'OBJECTID', outStatisticFieldName: 'open' },
      ]),
    });
    expect(body.features).toEqual([{ attributes: { open: all.filter((a) => a.STATUS === 'Open').length } }]);
  });

  it('rejects a bad statistic', async () => {
    const body = await shelters({
      outStatistics: JSON.stringify([{ statisticType: 'median', onStatisticField: 'CAPACITY' }]),
    });
    expect(body.error.code).toBe(400);
  });

  it('returns distinct values', async () => {
    const body = await shelters({
      outFields: 'STATUS',
      returnDistinctValues: 'true',
      returnGeometry: 'false',
      orderByFields: 'STATUS',
    });
    expect(body.features).toEqual([{ attributes: { STATUS: 'Closed' } }, { attributes: { STATUS: 'Open' } }]);
  });

  it('filters by an envelope', async () => {
    const box = { xmin: -98, ymin: 29, xmax: -97, ymax: 31 };
    const expected = all.length;
    const body = await shelters({
      geometry: JSON.stringify(box),
      geometryType: 'esriGeometryEnvelope',
      returnGeometry: 'true',
      outFields: 'OBJECTID',
    });
    expect(body.features.length).toBeGreaterThan(0);
    expect(body.features.length).toBeLessThan(expected);
    for (const f of body.features) {
      expect(f.geometry.x).toBeGreaterThanOrEqual(box.xmin);
      expect(f.geometry.y).toBeLessThanOrEqual(box.ymax);
    }
  });

  it('pages over the large layer: maxRecordCount cap, exceededTransferLimit, no gaps or repeats', async () => {
    const layer = await getJson(
      sandbox.info.services.large,
      {},
      { 'X-Esri-Authorization': `Bearer ${token}` },
    );
    expect(layer.maxRecordCount).toBe(2000);
    const where = "CATEGORY IN ('Fire', 'Flood') AND PEOPLE_AFFECTED >= 250";
    const total = (await large({ where, returnCountOnly: 'true' })).count;
    expect(total).toBeGreaterThan(10_000);

    const capped = await large({ where, outFields: 'OBJECTID', resultRecordCount: '5000' });
    expect(capped.features).toHaveLength(2000);
    expect(capped.exceededTransferLimit).toBe(true);

    const seen = new Set<number>();
    let offset = 0;
    let pages = 0;
    for (;;) {
      const page = await large({
        where,
        outFields: 'OBJECTID,COST',
        orderByFields: 'COST DESC',
        resultOffset: String(offset),
        resultRecordCount: '2000',
        returnGeometry: 'false',
      });
      for (const f of page.features) seen.add(f.attributes.OBJECTID);
      offset += page.features.length;
      pages += 1;
      if (page.exceededTransferLimit !== true) break;
      expect(page.features).toHaveLength(2000);
    }
    expect(seen.size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 2000));
  });

  it('the layer without pagination ignores resultOffset and flags truncation (§12)', async () => {
    const url = `${sandbox.info.services.noPagination}/query`;
    const first = await getJson(url, { outFields: 'OBJECTID', resultRecordCount: '10' });
    const second = await getJson(url, { outFields: 'OBJECTID', resultRecordCount: '10', resultOffset: '10' });
    expect(second.features).toEqual(first.features);
    expect(first.exceededTransferLimit).toBe(true);
    const all2500 = await getJson(url, { outFields: 'OBJECTID' });
    expect(all2500.features).toHaveLength(1000);
    expect(all2500.exceededTransferLimit).toBe(true);
    const few = await getJson(url, { where: 'OBJECTID <= 5', outFields: 'OBJECTID' });
    expect(few.features).toHaveLength(5);
    expect(few.exceededTransferLimit).toBeUndefined();
  });

  it('answers f=geojson with the flag in properties', async () => {
    const body = await getJson(`${sandbox.info.services.public}/query`, {
      f: 'geojson',
      resultRecordCount: '5',
      outFields: 'NAME',
    });
    expect(body.type).toBe('FeatureCollection');
    expect(body.features).toHaveLength(5);
    expect(body.features[0].geometry.type).toBe('Point');
    expect(body.properties.exceededTransferLimit).toBe(true);
  });
});
