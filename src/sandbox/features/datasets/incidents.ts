import { seededRandom } from '../../random.js';
import { date, double, int, oid, text } from '../layer-types.js';
import type { FeatureRow, LayerDef } from '../layer-types.js';
import { US_PLACES, pick, round6 } from './places.js';

export const INCIDENT_COUNT = 100_000;
const CATEGORIES = ['Flood', 'Fire', 'Wind', 'Power', 'Medical', 'Road', 'Shelter', 'Supply'] as const;
const PRIORITIES = ['Low', 'Medium', 'High', 'Critical'] as const;

/**
 * The large layer (≥100k features) for paging tests (§10.6). Generated at start from a seeded
 * PRNG: identical on every run, ~50 ms.
 */
export function incidentsLayer(): LayerDef {
  const rnd = seededRandom(3003);
  const rows: FeatureRow[] = new Array<FeatureRow>(INCIDENT_COUNT);
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < INCIDENT_COUNT; i += 1) {
    const place = pick(US_PLACES, rnd);
    rows[i] = {
      attributes: {
        OBJECTID: i + 1,
        INCIDENT_ID: `INC-${String(i + 1).padStart(6, '0')}`,
        CATEGORY: pick(CATEGORIES, rnd),
        PRIORITY: pick(PRIORITIES, rnd),
        STATE: place.state,
        PEOPLE_AFFECTED: Math.floor(rnd() * 500),
        COST: Math.round(rnd() * 10_000_000) / 100,
        REPORTED: t0 + Math.floor(rnd() * 365 * 24) * 3_600_000,
      },
      geometry: { x: round6(place.x + (rnd() - 0.5) * 2), y: round6(place.y + (rnd() - 0.5) * 2) },
    };
  }
  return {
    id: 0,
    name: 'Incidents',
    kind: 'Feature Layer',
    geometryType: 'esriGeometryPoint',
    objectIdField: 'OBJECTID',
    displayField: 'INCIDENT_ID',
    fields: [
      oid(),
      text('INCIDENT_ID', 12, false),
      text('CATEGORY', 20),
      text('PRIORITY', 10),
      text('STATE', 2),
      int('PEOPLE_AFFECTED'),
      double('COST'),
      date('REPORTED'),
    ],
    maxRecordCount: 2000,
    supportsPagination: true,
    rows,
    extent: { xmin: -123.7, ymin: 24.9, xmax: -79.2, ymax: 46.6 },
  };
}
