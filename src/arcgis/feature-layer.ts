import { z } from 'zod';
import { ArcGisMcpError } from '../errors.js';
import type { Params } from './http-client.js';

/**
 * Feature layer metadata and query pages (arcgis-protocol.md §8), independent of how the request
 * is authorised: callers pass a `fetchJson` that runs the decision tree.
 */

const field = z
  .object({
    name: z.string(),
    type: z.string().optional(),
    alias: z.string().optional(),
    length: z.number().optional(),
    nullable: z.boolean().optional(),
  })
  .loose();
export type LayerField = z.infer<typeof field>;

const layerInfo = z
  .object({
    id: z.number().optional(),
    name: z.string().optional(),
    type: z.string().optional(),
    geometryType: z.string().nullable().optional(),
    objectIdField: z.string().optional(),
    fields: z.array(field).nullable().optional(),
    maxRecordCount: z.number().optional(),
    advancedQueryCapabilities: z
      .object({
        supportsPagination: z.boolean().optional(),
        supportsOrderBy: z.boolean().optional(),
        supportsStatistics: z.boolean().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type LayerInfo = z.infer<typeof layerInfo>;

const serviceInfo = z
  .object({
    layers: z.array(z.object({ id: z.number(), name: z.string() }).loose()).optional(),
    tables: z.array(z.object({ id: z.number(), name: z.string() }).loose()).optional(),
  })
  .loose();
export type ServiceInfo = z.infer<typeof serviceInfo>;

const queryPage = z
  .object({
    objectIdFieldName: z.string().optional(),
    fields: z.array(field).optional(),
    features: z.array(
      z
        .object({
          attributes: z.record(z.string(), z.unknown()).optional(),
          geometry: z.unknown().optional(),
        })
        .loose(),
    ),
    exceededTransferLimit: z.boolean().optional(),
  })
  .loose();
export type QueryPage = z.infer<typeof queryPage>;

const countAnswer = z.object({ count: z.number() }).loose();
const idsAnswer = z
  .object({
    objectIdFieldName: z.string().optional(),
    objectIds: z.array(z.union([z.number(), z.string()])).nullable(),
  })
  .loose();

export function parseLayerInfo(body: unknown): LayerInfo {
  const r = layerInfo.safeParse(body);
  if (!r.success || (!r.data.fields && !r.data.type && !r.data.name)) {
    throw new ArcGisMcpError(
      'ARCGIS_NOT_A_SERVICE',
      'The URL answered, but not with a feature layer or table description.',
      {
        nextStep: 'Use the URL of a layer or table, ending in …/FeatureServer/<layer id>.',
      },
    );
  }
  return r.data;
}

export function parseServiceInfo(body: unknown): ServiceInfo {
  const r = serviceInfo.safeParse(body);
  if (!r.success)
    throw new ArcGisMcpError('ARCGIS_NOT_A_SERVICE', 'The URL did not answer like an ArcGIS service.');
  return r.data;
}

export function parseQueryPage(body: unknown): QueryPage {
  const r = queryPage.safeParse(body);
  if (!r.success) throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', 'The query answer has no features array.');
  return r.data;
}

export function parseCount(body: unknown): number {
  const r = countAnswer.safeParse(body);
  if (!r.success) throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', 'The count answer has no count.');
  return r.data.count;
}

export function parseObjectIds(body: unknown): Array<number | string> {
  const r = idsAnswer.safeParse(body);
  if (!r.success) throw new ArcGisMcpError('ARCGIS_BAD_RESPONSE', 'The object-id answer has no objectIds.');
  return r.data.objectIds ?? [];
}

/** A bounding box in WGS 84 longitude/latitude. */
export interface Envelope {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface QueryOptions {
  where: string;
  outFields: string;
  orderByFields: string | undefined;
  returnGeometry: boolean;
  outSR?: number;
  bbox?: Envelope | undefined;
}

/**
 * The filter part shared by rows, counts, ids and statistics: the where clause and an optional
 * envelope (geometry as a JSON string with inSR, §1, §8).
 */
export function filterParams(o: Pick<QueryOptions, 'where' | 'bbox'>): Params {
  return {
    where: o.where,
    ...(o.bbox
      ? {
          geometry: JSON.stringify({ ...o.bbox, spatialReference: { wkid: 4326 } }),
          geometryType: 'esriGeometryEnvelope',
          inSR: 4326,
          spatialRel: 'esriSpatialRelIntersects',
        }
      : {}),
  };
}

/** Query parameters shared by every page; JSON-valued and boolean parameters as strings (§1). */
export function baseQueryParams(o: QueryOptions): Params {
  return {
    ...filterParams(o),
    outFields: o.outFields,
    orderByFields: o.orderByFields,
    returnGeometry: o.returnGeometry,
    ...(o.outSR !== undefined ? { outSR: o.outSR } : {}),
  };
}

export type StatisticType = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stddev' | 'var';
export interface Statistic {
  type: StatisticType;
  field: string;
  as?: string | undefined;
}

/** outStatistics + groupByFieldsForStatistics (§8): one request, one row per group. */
export function statisticsParams(
  o: Pick<QueryOptions, 'where' | 'bbox'>,
  statistics: readonly Statistic[],
  groupBy: readonly string[],
  orderByFields: string | undefined,
): Params {
  return {
    ...filterParams(o),
    outStatistics: JSON.stringify(
      statistics.map((s) => ({
        statisticType: s.type,
        onStatisticField: s.field,
        outStatisticFieldName: s.as ?? `${s.type}_${s.field}`,
      })),
    ),
    ...(groupBy.length > 0 ? { groupByFieldsForStatistics: groupBy.join(',') } : {}),
    orderByFields,
  };
}

export interface CollectResult {
  features: QueryPage['features'];
  fields: LayerField[] | undefined;
  /** More rows match after the last one returned. */
  hasMore: boolean;
  pages: number;
  /** The order was not applied (layer without pagination support, rows picked by object id). */
  orderIgnored: boolean;
}

/**
 * Collects `limit` rows from `offset` on, one or more pages. With `supportsPagination` it pages
 * with resultOffset/resultRecordCount and stops on a short page or when `exceededTransferLimit`
 * is not true (§8, §11: a server ignoring resultOffset must not make us loop). Without it, it pages
 * by object ids (returnIdsOnly, then `objectIds` chunks), which also copes with hashed ids (§12).
 */
export async function collectRows(
  fetchJson: (params: Params) => Promise<unknown>,
  layer: LayerInfo,
  options: QueryOptions,
  window: { offset: number; limit: number },
): Promise<CollectResult> {
  const maxRecordCount = layer.maxRecordCount && layer.maxRecordCount > 0 ? layer.maxRecordCount : 2000;
  const supportsPagination = layer.advancedQueryCapabilities?.supportsPagination !== false;
  const base = baseQueryParams(options);

  if (!supportsPagination && (window.offset > 0 || window.limit > maxRecordCount)) {
    return collectByObjectIds(fetchJson, maxRecordCount, options, window);
  }

  const features: QueryPage['features'] = [];
  let fields: LayerField[] | undefined;
  let offset = window.offset;
  let pages = 0;
  let hasMore = false;
  const seenFirstIds = new Set<unknown>();
  while (features.length < window.limit) {
    const want = Math.min(maxRecordCount, window.limit - features.length);
    // Ask for one row more than needed when the cap allows, so that "more rows remain" is exact
    // even on servers whose exceededTransferLimit is unreliable (§12).
    const ask = supportsPagination ? Math.min(maxRecordCount, want + 1) : want;
    const page = parseQueryPage(
      await fetchJson({
        ...base,
        ...(supportsPagination ? { resultOffset: offset, resultRecordCount: ask } : {}),
      }),
    );
    pages++;
    fields ??= page.fields;
    const rows = page.features;
    if (!supportsPagination) {
      // One query, no resultRecordCount: the server may return more than we want (§12).
      features.push(...rows.slice(0, want));
      hasMore = rows.length > want || page.exceededTransferLimit === true;
      break;
    }
    // §11/§12: a server that ignores resultOffset returns the same page again. Detect it by the
    // first object id and fall back to object-id paging rather than returning duplicates.
    const oidField = layer.objectIdField ?? page.objectIdFieldName;
    const firstId = oidField !== undefined ? rows[0]?.attributes?.[oidField] : undefined;
    if (firstId !== undefined && seenFirstIds.has(firstId)) {
      return collectByObjectIds(fetchJson, maxRecordCount, options, window);
    }
    if (firstId !== undefined) seenFirstIds.add(firstId);
    features.push(...rows.slice(0, want));
    offset += Math.min(rows.length, want);
    if (rows.length > want) {
      hasMore = true;
      break;
    }
    if (rows.length === 0 || (rows.length < ask && page.exceededTransferLimit !== true)) {
      hasMore = false;
      break;
    }
    // A full page at the cap: trust exceededTransferLimit when the server sends it, otherwise
    // assume more rows may remain (the next page, if asked for, settles it).
    hasMore = page.exceededTransferLimit ?? rows.length === ask;
    if (!hasMore) break;
  }
  return { features, fields, hasMore, pages, orderIgnored: false };
}

async function collectByObjectIds(
  fetchJson: (params: Params) => Promise<unknown>,
  chunkSize: number,
  options: QueryOptions,
  window: { offset: number; limit: number },
): Promise<CollectResult> {
  const ids = parseObjectIds(await fetchJson({ ...filterParams(options), returnIdsOnly: true }));
  const slice = ids.slice(window.offset, window.offset + window.limit);
  const features: QueryPage['features'] = [];
  let fields: LayerField[] | undefined;
  let pages = 1;
  for (let i = 0; i < slice.length; i += chunkSize) {
    const chunk = slice.slice(i, i + chunkSize);
    const page = parseQueryPage(
      await fetchJson({
        ...baseQueryParams({ ...options, orderByFields: undefined }),
        objectIds: chunk.join(','),
      }),
    );
    pages++;
    fields ??= page.fields;
    features.push(...page.features);
  }
  return {
    features,
    fields,
    hasMore: window.offset + window.limit < ids.length,
    pages,
    orderIgnored: options.orderByFields !== undefined,
  };
}
