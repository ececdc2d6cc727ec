import type { LayerDef, ServiceDef } from './layer-types.js';
import { WGS84 } from './layer-types.js';
import { fieldJson } from './query.js';

const CURRENT_VERSION = 11.3;
const SUPPORTED_QUERY_FORMATS = 'JSON, geoJSON, PBF';

function extentJson(layer: LayerDef): Record<string, unknown> | null {
  return layer.extent === null ? null : { ...layer.extent, spatialReference: WGS84 };
}

/** Service root `.../FeatureServer?f=json` (§8). */
export function serviceJson(service: ServiceDef): Record<string, unknown> {
  const spatial = service.layers.filter((l) => l.kind === 'Feature Layer');
  const first = spatial[0];
  const extent = first === undefined ? null : extentJson(first);
  return {
    currentVersion: CURRENT_VERSION,
    serviceItemId: '',
    serviceDescription: service.description,
    hasVersionedData: false,
    supportsDisconnectedEditing: false,
    hasStaticData: true,
    maxRecordCount: Math.max(...service.layers.map((l) => l.maxRecordCount)),
    supportedQueryFormats: SUPPORTED_QUERY_FORMATS,
    capabilities: 'Query',
    description: service.description,
    copyrightText: 'ArcGIS sandbox (synthetic data)',
    spatialReference: WGS84,
    initialExtent: extent,
    fullExtent: extent,
    allowGeometryUpdates: false,
    units: 'esriDecimalDegrees',
    layers: spatial.map((l) => ({
      id: l.id,
      name: l.name,
      parentLayerId: -1,
      defaultVisibility: true,
      subLayerIds: null,
      minScale: 0,
      maxScale: 0,
      geometryType: l.geometryType,
    })),
    tables: service.layers.filter((l) => l.kind === 'Table').map((l) => ({ id: l.id, name: l.name })),
  };
}

/** Layer or table `.../FeatureServer/<id>?f=json` (§8). */
export function layerJson(layer: LayerDef): Record<string, unknown> {
  return {
    currentVersion: CURRENT_VERSION,
    id: layer.id,
    name: layer.name,
    type: layer.kind,
    description: '',
    copyrightText: 'ArcGIS sandbox (synthetic data)',
    defaultVisibility: true,
    isDataVersioned: false,
    supportsRollbackOnFailureParameter: true,
    ...(layer.geometryType === null ? {} : { geometryType: layer.geometryType }),
    minScale: 0,
    maxScale: 0,
    extent: extentJson(layer),
    hasAttachments: false,
    htmlPopupType: 'esriServerHTMLPopupTypeNone',
    displayField: layer.displayField,
    typeIdField: null,
    objectIdField: layer.objectIdField,
    uniqueIdField: { name: layer.objectIdField, isSystemMaintained: true },
    globalIdField: '',
    fields: layer.fields.map(fieldJson),
    relationships: [],
    canModifyLayer: false,
    canScaleSymbols: false,
    hasLabels: false,
    capabilities: 'Query',
    maxRecordCount: layer.maxRecordCount,
    standardMaxRecordCount: layer.maxRecordCount,
    supportsStatistics: true,
    supportsAdvancedQueries: true,
    supportedQueryFormats: SUPPORTED_QUERY_FORMATS,
    useStandardizedQueries: true,
    advancedQueryCapabilities: {
      useStandardizedQueries: true,
      supportsStatistics: true,
      supportsHavingClause: false,
      supportsOrderBy: true,
      supportsDistinct: true,
      supportsCountDistinct: false,
      supportsPagination: layer.supportsPagination,
      supportsPaginationOnAggregatedQueries: false,
      supportsTrueCurve: false,
      supportsReturningQueryExtent: false,
      supportsQueryWithDistance: false,
      supportsSqlExpression: false,
    },
  };
}
