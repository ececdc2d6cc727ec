/** The data model behind the emulated feature services (arcgis-protocol.md §8). */
export type FieldType =
  | 'esriFieldTypeOID'
  | 'esriFieldTypeString'
  | 'esriFieldTypeInteger'
  | 'esriFieldTypeSmallInteger'
  | 'esriFieldTypeDouble'
  | 'esriFieldTypeDate';

export interface FieldDef {
  name: string;
  type: FieldType;
  alias: string;
  length?: number;
  nullable: boolean;
}

export type AttributeValue = string | number | null;

export interface PointGeometry {
  x: number;
  y: number;
}

export interface FeatureRow {
  attributes: Record<string, AttributeValue>;
  geometry: PointGeometry | null;
}

export interface Extent {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface LayerDef {
  id: number;
  name: string;
  kind: 'Feature Layer' | 'Table';
  geometryType: 'esriGeometryPoint' | null;
  objectIdField: string;
  displayField: string;
  fields: FieldDef[];
  maxRecordCount: number;
  /** §12: Koop-like layers advertise no pagination and ignore resultOffset. */
  supportsPagination: boolean;
  rows: FeatureRow[];
  extent: Extent | null;
}

/** Who may read a service: anyone, or signed-in members of the org (§2, §6). */
export type ServiceAccess = 'public' | 'org';

export interface ServiceDef {
  name: string;
  access: ServiceAccess;
  description: string;
  layers: LayerDef[];
}

export const WGS84 = { wkid: 4326, latestWkid: 4326 } as const;

export function extentOf(rows: readonly FeatureRow[]): Extent | null {
  let xmin = Infinity;
  let ymin = Infinity;
  let xmax = -Infinity;
  let ymax = -Infinity;
  for (const row of rows) {
    if (row.geometry === null) continue;
    xmin = Math.min(xmin, row.geometry.x);
    ymin = Math.min(ymin, row.geometry.y);
    xmax = Math.max(xmax, row.geometry.x);
    ymax = Math.max(ymax, row.geometry.y);
  }
  return xmin === Infinity ? null : { xmin, ymin, xmax, ymax };
}

export function oid(name = 'OBJECTID'): FieldDef {
  return { name, type: 'esriFieldTypeOID', alias: name, nullable: false };
}

export function text(name: string, length: number, nullable = true, alias = name): FieldDef {
  return { name, type: 'esriFieldTypeString', alias, length, nullable };
}

export function int(name: string, nullable = true, alias = name): FieldDef {
  return { name, type: 'esriFieldTypeInteger', alias, nullable };
}

export function double(name: string, nullable = true, alias = name): FieldDef {
  return { name, type: 'esriFieldTypeDouble', alias, nullable };
}

export function date(name: string, nullable = true, alias = name): FieldDef {
  return { name, type: 'esriFieldTypeDate', alias, length: 8, nullable };
}
