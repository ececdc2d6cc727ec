import { resolveOutFields } from './field-lookup.js';
import type { AttributeValue, FieldDef, LayerDef } from './layer-types.js';
import { WGS84 } from './layer-types.js';
import { invalidParameter } from './query-error.js';
import { parseOrder, select } from './selection.js';
import { runStatistics } from './statistics.js';

/** The query parameters, already read from query string or body. */
export type QueryParams = (name: string) => string | undefined;

/**
 * `.../FeatureServer/<id>/query` (§8). Throws QueryError for anything the §2 "bad where / field"
 * envelope answers.
 */
export function runQuery(layer: LayerDef, get: QueryParams): Record<string, unknown> {
  const format = (get('f') ?? 'json').toLowerCase();
  const selected = select(layer, {
    where: get('where'),
    objectIds: get('objectIds'),
    geometry: get('geometry'),
    geometryType: get('geometryType'),
    // Statistics order their own output; distinct values too.
    orderByFields:
      get('outStatistics') !== undefined || flag(get('returnDistinctValues'))
        ? undefined
        : get('orderByFields'),
  });

  const outStatistics = get('outStatistics');
  if (outStatistics !== undefined && outStatistics.trim() !== '') {
    return runStatistics(
      layer,
      selected,
      outStatistics,
      get('groupByFieldsForStatistics'),
      get('orderByFields'),
    );
  }

  const outFields = resolveOutFields(layer, get('outFields'));
  if (flag(get('returnDistinctValues'))) return distinct(layer, selected, outFields, get);

  // §12 note: a count ignores resultRecordCount here, as ArcGIS does (Koop may not).
  if (flag(get('returnCountOnly'))) return { count: selected.length };
  if (flag(get('returnIdsOnly'))) {
    // §8: returnIdsOnly is uncapped.
    return {
      objectIdFieldName: layer.objectIdField,
      objectIds: selected.map((i) => layer.rows[i]?.attributes[layer.objectIdField]),
    };
  }

  const { start, end, exceeded } = page(layer, selected.length, get);
  const returnGeometry = layer.geometryType !== null && get('returnGeometry')?.toLowerCase() !== 'false';
  const pageRows = selected
    .slice(start, end)
    .map((i) => layer.rows[i])
    .filter((r) => r !== undefined);
  const project = (attributes: Record<string, AttributeValue>): Record<string, AttributeValue> =>
    Object.fromEntries(outFields.map((f) => [f.name, attributes[f.name] ?? null]));

  if (format === 'geojson') {
    return {
      type: 'FeatureCollection',
      features: pageRows.map((row) => ({
        type: 'Feature',
        id: row.attributes[layer.objectIdField],
        geometry:
          returnGeometry && row.geometry !== null
            ? { type: 'Point', coordinates: [row.geometry.x, row.geometry.y] }
            : null,
        properties: project(row.attributes),
      })),
      // §8: GeoJSON carries the flag in properties.
      ...(exceeded ? { properties: { exceededTransferLimit: true } } : {}),
    };
  }

  return {
    objectIdFieldName: layer.objectIdField,
    uniqueIdField: { name: layer.objectIdField, isSystemMaintained: true },
    globalIdFieldName: '',
    ...(layer.geometryType === null ? {} : { geometryType: layer.geometryType, spatialReference: WGS84 }),
    // §8: `fields` is omitted for an empty result.
    ...(pageRows.length === 0 ? {} : { fields: outFields.map(fieldJson) }),
    features: pageRows.map((row) => ({
      attributes: project(row.attributes),
      ...(returnGeometry && row.geometry !== null
        ? { geometry: { x: row.geometry.x, y: row.geometry.y } }
        : {}),
    })),
    ...(exceeded ? { exceededTransferLimit: true } : {}),
  };
}

/**
 * §8: with paging, exceededTransferLimit means more rows remain after this page; without paging
 * (§12: resultOffset ignored) it means the result was truncated at the page size.
 */
function page(
  layer: LayerDef,
  total: number,
  get: QueryParams,
): { start: number; end: number; exceeded: boolean } {
  const offset = integer(get('resultOffset'), 'resultOffset');
  const count = integer(get('resultRecordCount'), 'resultRecordCount');
  const size = count !== null && count > 0 ? Math.min(count, layer.maxRecordCount) : layer.maxRecordCount;
  const start = layer.supportsPagination ? Math.max(0, offset ?? 0) : 0;
  const end = Math.min(total, start + size);
  const exceeded = layer.supportsPagination ? end < total : total > end;
  return { start, end, exceeded };
}

function distinct(
  layer: LayerDef,
  selected: readonly number[],
  outFields: readonly FieldDef[],
  get: QueryParams,
): Record<string, unknown> {
  const seen = new Map<string, Record<string, AttributeValue>>();
  for (const index of selected) {
    const row = layer.rows[index];
    if (row === undefined) continue;
    const attributes = Object.fromEntries(outFields.map((f) => [f.name, row.attributes[f.name] ?? null]));
    const key = JSON.stringify(outFields.map((f) => attributes[f.name]));
    if (!seen.has(key)) seen.set(key, attributes);
  }
  let rows = [...seen.values()];
  const order = parseOrder(layer, get('orderByFields'));
  if (order.length > 0) {
    const names = new Set(outFields.map((f) => f.name));
    if (order.some((t) => !names.has(t.name))) throw invalidParameter('orderByFields');
    const sortable = rows.map((attributes) => ({ attributes, geometry: null }));
    rows = sortable
      .sort((a, b) => {
        for (const term of order) {
          const x = a.attributes[term.name] ?? null;
          const y = b.attributes[term.name] ?? null;
          const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
          if (c !== 0) return term.descending ? -c : c;
        }
        return 0;
      })
      .map((r) => r.attributes);
  }
  if (flag(get('returnCountOnly'))) return { count: rows.length };
  const { start, end, exceeded } = page(layer, rows.length, get);
  const slice = rows.slice(start, end);
  return {
    ...(slice.length === 0 ? {} : { fields: outFields.map(fieldJson) }),
    features: slice.map((attributes) => ({ attributes })),
    ...(exceeded ? { exceededTransferLimit: true } : {}),
  };
}

export function fieldJson(field: FieldDef): Record<string, unknown> {
  return {
    name: field.name,
    type: field.type,
    alias: field.alias,
    sqlType: 'sqlTypeOther',
    ...(field.length === undefined ? {} : { length: field.length }),
    domain: null,
    defaultValue: null,
  };
}

/** §1: booleans arrive as "true"/"false". */
function flag(value: string | undefined): boolean {
  return value?.toLowerCase() === 'true';
}

function integer(value: string | undefined, name: string): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  if (!Number.isInteger(n)) throw invalidParameter(name);
  return n;
}
