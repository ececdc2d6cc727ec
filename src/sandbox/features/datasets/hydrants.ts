import { seededRandom } from '../../random.js';
import { extentOf, int, oid, text } from '../layer-types.js';
import type { FeatureRow, LayerDef } from '../layer-types.js';
import { TEXAS_CITIES, jitter, pick } from './places.js';

/**
 * Hydrants, `count` of them, for the Koop-like layer (§12: no pagination, resultOffset ignored)
 * and for the Enterprise servers.
 */
export function hydrantsLayer(options: {
  seed: number;
  count: number;
  name: string;
  maxRecordCount: number;
  supportsPagination: boolean;
}): LayerDef {
  const rnd = seededRandom(options.seed);
  const rows: FeatureRow[] = [];
  for (let i = 1; i <= options.count; i += 1) {
    const place = pick(TEXAS_CITIES, rnd);
    rows.push({
      attributes: {
        OBJECTID: i,
        HYDRANT_ID: `H-${options.seed}-${i}`,
        CITY: place.city,
        CONDITION: pick(['Good', 'Fair', 'Poor', 'Out of service'], rnd),
        PRESSURE_PSI: 40 + Math.floor(rnd() * 60),
      },
      geometry: jitter(place, rnd),
    });
  }
  return {
    id: 0,
    name: options.name,
    kind: 'Feature Layer',
    geometryType: 'esriGeometryPoint',
    objectIdField: 'OBJECTID',
    displayField: 'HYDRANT_ID',
    fields: [
      oid(),
      text('HYDRANT_ID', 20, false),
      text('CITY', 50),
      text('CONDITION', 20),
      int('PRESSURE_PSI'),
    ],
    maxRecordCount: options.maxRecordCount,
    supportsPagination: options.supportsPagination,
    rows,
    extent: extentOf(rows),
  };
}
