import { seededRandom } from '../../random.js';
import { date, extentOf, int, oid, text } from '../layer-types.js';
import type { FeatureRow, LayerDef } from '../layer-types.js';
import { TEXAS_CITIES, jitter, pick } from './places.js';

const PREFIXES = [
  'First Baptist',
  'Lincoln High School',
  'Civic Center',
  'St. Mary',
  'Community Center',
  'Red Cross',
  'YMCA',
  'Convention Center',
  'Middle School',
  'Recreation Center',
];
const NOTES = [
  'Pets allowed',
  'Wheelchair accessible',
  'Generator on site',
  'Limited parking',
  'Medical staff on call',
];

/** Shelters in Texas: the org-private layer of product.md ("how many shelters in Texas are open?"). */
export const SHELTER_COUNT = 320;

export function sheltersLayer(): LayerDef {
  const rnd = seededRandom(2002);
  const rows: FeatureRow[] = [];
  const opened0 = Date.UTC(2024, 5, 1);
  for (let i = 1; i <= SHELTER_COUNT; i += 1) {
    const place = pick(TEXAS_CITIES, rnd);
    rows.push({
      attributes: {
        OBJECTID: i,
        NAME: `${place.city} ${pick(PREFIXES, rnd)} Shelter ${i}`,
        CITY: place.city,
        STATE: 'TX',
        STATUS: rnd() < 0.62 ? 'Open' : 'Closed',
        CAPACITY: 20 + Math.floor(rnd() * 48) * 10,
        // Nullable on purpose: IS NULL / IS NOT NULL need both kinds of rows.
        NOTES: rnd() < 0.4 ? null : pick(NOTES, rnd),
        OPENED: opened0 + Math.floor(rnd() * 120) * 86_400_000,
      },
      geometry: jitter(place, rnd),
    });
  }
  return {
    id: 0,
    name: 'Shelters',
    kind: 'Feature Layer',
    geometryType: 'esriGeometryPoint',
    objectIdField: 'OBJECTID',
    displayField: 'NAME',
    fields: [
      oid(),
      text('NAME', 120, false, 'Shelter name'),
      text('CITY', 50),
      text('STATE', 2),
      text('STATUS', 10),
      int('CAPACITY'),
      text('NOTES', 255),
      date('OPENED', true, 'Date opened'),
    ],
    maxRecordCount: 1000,
    supportsPagination: true,
    rows,
    extent: extentOf(rows),
  };
}

/** A table (no geometry) in the same private service: inspections of the shelters. */
export function inspectionsTable(): LayerDef {
  const rnd = seededRandom(2003);
  const rows: FeatureRow[] = [];
  const day0 = Date.UTC(2024, 6, 1);
  for (let i = 1; i <= 600; i += 1) {
    rows.push({
      attributes: {
        OBJECTID: i,
        SHELTER_ID: 1 + Math.floor(rnd() * SHELTER_COUNT),
        INSPECTOR: pick(['alice', 'bob', 'carol_saml'], rnd),
        RESULT: pick(['Pass', 'Pass', 'Pass', 'Fail', 'Follow-up'], rnd),
        SCORE: 50 + Math.floor(rnd() * 51),
        INSPECTED: day0 + Math.floor(rnd() * 90) * 86_400_000,
      },
      geometry: null,
    });
  }
  return {
    id: 1,
    name: 'Inspections',
    kind: 'Table',
    geometryType: null,
    objectIdField: 'OBJECTID',
    displayField: 'INSPECTOR',
    fields: [
      oid(),
      int('SHELTER_ID', false),
      text('INSPECTOR', 50),
      text('RESULT', 20),
      int('SCORE'),
      date('INSPECTED'),
    ],
    maxRecordCount: 1000,
    supportsPagination: true,
    rows,
    extent: null,
  };
}
