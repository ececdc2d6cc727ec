import { resolveField } from './field-lookup.js';
import type { FeatureRow, LayerDef } from './layer-types.js';
import { invalidParameter } from './query-error.js';
import { compare, compileWhere } from './where-compile.js';

/** The rows a query selects, in order, as indexes into `layer.rows`. */
export interface SelectionRequest {
  where: string | undefined;
  objectIds: string | undefined;
  geometry: string | undefined;
  geometryType: string | undefined;
  orderByFields: string | undefined;
}

/**
 * Recent selections per layer, so paging through 100k rows with a stable `orderByFields` sorts
 * once, not once per page. The data never changes, so entries never go stale.
 */
const CACHE_SIZE = 32;
const cache = new WeakMap<LayerDef, Map<string, number[]>>();

export function select(layer: LayerDef, request: SelectionRequest): number[] {
  const key = JSON.stringify([
    request.where,
    request.objectIds,
    request.geometry,
    request.geometryType,
    request.orderByFields,
  ]);
  let perLayer = cache.get(layer);
  if (perLayer === undefined) {
    perLayer = new Map();
    cache.set(layer, perLayer);
  }
  const hit = perLayer.get(key);
  if (hit !== undefined) return hit;

  const predicate = compileWhere(layer, request.where);
  const ids = parseObjectIds(request.objectIds);
  const box = parseEnvelope(request.geometry, request.geometryType, layer);
  const order = parseOrder(layer, request.orderByFields);
  const oidField = layer.objectIdField;

  const selected: number[] = [];
  layer.rows.forEach((row, index) => {
    if (ids !== null && !ids.has(Number(row.attributes[oidField]))) return;
    if (box !== null && !inside(row, box)) return;
    if (predicate(row)) selected.push(index);
  });
  if (order.length > 0) sortByKeys(layer, selected, order);

  perLayer.set(key, selected);
  if (perLayer.size > CACHE_SIZE) {
    const oldest = perLayer.keys().next().value;
    if (oldest !== undefined) perLayer.delete(oldest);
  }
  return selected;
}

/**
 * Sorts row indexes by precomputed keys: reading attributes once per row instead of once per
 * comparison keeps an uncached sort of 100k rows well under 100 ms. Ties keep object-id order.
 */
function sortByKeys(layer: LayerDef, selected: number[], order: readonly OrderTerm[]): void {
  const keys = order.map((term) => {
    const column = new Array<string | number | null>(layer.rows.length);
    for (const index of selected) column[index] = layer.rows[index]?.attributes[term.name] ?? null;
    return { column, sign: term.descending ? -1 : 1 };
  });
  selected.sort((i, j) => {
    for (const { column, sign } of keys) {
      const a = column[i] ?? null;
      const b = column[j] ?? null;
      const c =
        a === b ? 0 : typeof a === 'number' && typeof b === 'number' ? a - b : compareNullsFirst(a, b);
      if (c !== 0) return sign * c;
    }
    return i - j;
  });
}

export interface OrderTerm {
  name: string;
  descending: boolean;
}

/** `orderByFields`: `F [ASC|DESC], ...` (§8). NULLs sort first ascending, as SQL Server does. */
export function parseOrder(
  layer: LayerDef,
  text: string | undefined,
  names?: readonly string[],
): OrderTerm[] {
  const raw = (text ?? '').trim();
  if (raw === '') return [];
  return raw.split(',').map((part) => {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(ASC|DESC)?\s*$/i.exec(part);
    if (match === null || match[1] === undefined) throw invalidParameter('orderByFields');
    const descending = (match[2] ?? '').toUpperCase() === 'DESC';
    if (names !== undefined) {
      const found = names.find((n) => n.toUpperCase() === match[1]?.toUpperCase());
      if (found === undefined) throw invalidParameter('orderByFields');
      return { name: found, descending };
    }
    return { name: resolveField(layer, match[1]).name, descending };
  });
}

export function compareRows(
  a: FeatureRow | undefined,
  b: FeatureRow | undefined,
  order: readonly OrderTerm[],
): number {
  for (const term of order) {
    const c = compareNullsFirst(a?.attributes[term.name] ?? null, b?.attributes[term.name] ?? null);
    if (c !== 0) return term.descending ? -c : c;
  }
  return 0;
}

function compareNullsFirst(a: string | number | null, b: string | number | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return compare(a, b) ?? 0;
}

function parseObjectIds(text: string | undefined): Set<number> | null {
  const raw = (text ?? '').trim();
  if (raw === '') return null;
  const ids = raw.split(',').map((s) => Number(s.trim()));
  if (ids.some((n) => !Number.isInteger(n))) throw invalidParameter('objectIds');
  return new Set(ids);
}

interface Box {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/**
 * The spatial filter, for envelopes only (`xmin,ymin,xmax,ymax` or the JSON envelope), in
 * WGS84; point layers make intersects/contains/within the same test. Other shapes: invalid.
 */
function parseEnvelope(
  text: string | undefined,
  geometryType: string | undefined,
  layer: LayerDef,
): Box | null {
  const raw = (text ?? '').trim();
  if (raw === '') return null;
  if (layer.geometryType === null) throw invalidParameter('geometry');
  if (geometryType !== undefined && geometryType !== '' && geometryType !== 'esriGeometryEnvelope') {
    throw invalidParameter('geometryType');
  }
  let values: unknown[];
  if (raw.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalidParameter('geometry');
    }
    const e = (parsed ?? {}) as Record<string, unknown>;
    values = [e.xmin, e.ymin, e.xmax, e.ymax];
  } else {
    values = raw.split(',').map((s) => Number(s));
  }
  const [xmin, ymin, xmax, ymax] = values;
  if (![xmin, ymin, xmax, ymax].every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalidParameter('geometry');
  }
  return { xmin: xmin as number, ymin: ymin as number, xmax: xmax as number, ymax: ymax as number };
}

function inside(row: FeatureRow, box: Box): boolean {
  const g = row.geometry;
  return g !== null && g.x >= box.xmin && g.x <= box.xmax && g.y >= box.ymin && g.y <= box.ymax;
}
