import { seededRandom } from '../../random.js';
import { double, extentOf, int, oid, text } from '../layer-types.js';
import type { FeatureRow, LayerDef } from '../layer-types.js';
import { US_PLACES, jitter, pick } from './places.js';

const KINDS = ['Neighborhood Park', 'Community Park', 'State Park', 'Nature Preserve', 'Playground'] as const;
const NAMES = [
  'Oak',
  'Cedar',
  'River',
  'Lakeside',
  'Pioneer',
  'Magnolia',
  'Bluebonnet',
  'Heritage',
  'Sunset',
  'Mesa',
];

/** The public layer: 50 parks, readable by anyone (§2 last line: 498 only when a bad token is sent). */
export function parksLayer(): LayerDef {
  const rnd = seededRandom(1001);
  const rows: FeatureRow[] = [];
  for (let i = 1; i <= 50; i += 1) {
    const place = pick(US_PLACES, rnd);
    const kind = pick(KINDS, rnd);
    rows.push({
      attributes: {
        OBJECTID: i,
        NAME: `${pick(NAMES, rnd)} ${kind}`,
        CITY: place.city,
        STATE: place.state,
        TYPE: kind,
        ACRES: Math.round(rnd() * 50000) / 100,
        PLAYGROUNDS: Math.floor(rnd() * 6),
      },
      geometry: jitter(place, rnd),
    });
  }
  return {
    id: 0,
    name: 'Parks',
    kind: 'Feature Layer',
    geometryType: 'esriGeometryPoint',
    objectIdField: 'OBJECTID',
    displayField: 'NAME',
    fields: [
      oid(),
      text('NAME', 100),
      text('CITY', 50),
      text('STATE', 2),
      text('TYPE', 50),
      double('ACRES'),
      int('PLAYGROUNDS'),
    ],
    maxRecordCount: 1000,
    supportsPagination: true,
    rows,
    extent: extentOf(rows),
  };
}
