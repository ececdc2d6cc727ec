/** Real place names with approximate coordinates, so generated data reads naturally. */
export interface Place {
  city: string;
  state: string;
  x: number;
  y: number;
}

export const TEXAS_CITIES: readonly Place[] = [
  { city: 'Houston', state: 'TX', x: -95.3698, y: 29.7604 },
  { city: 'San Antonio', state: 'TX', x: -98.4936, y: 29.4241 },
  { city: 'Dallas', state: 'TX', x: -96.797, y: 32.7767 },
  { city: 'Austin', state: 'TX', x: -97.7431, y: 30.2672 },
  { city: 'Fort Worth', state: 'TX', x: -97.3308, y: 32.7555 },
  { city: 'El Paso', state: 'TX', x: -106.485, y: 31.7619 },
  { city: 'Corpus Christi', state: 'TX', x: -97.3964, y: 27.8006 },
  { city: 'Laredo', state: 'TX', x: -99.5075, y: 27.5306 },
  { city: 'Lubbock', state: 'TX', x: -101.8552, y: 33.5779 },
  { city: 'Beaumont', state: 'TX', x: -94.1266, y: 30.0802 },
  { city: 'Galveston', state: 'TX', x: -94.7977, y: 29.3013 },
  { city: 'Brownsville', state: 'TX', x: -97.4975, y: 25.9017 },
  { city: 'Waco', state: 'TX', x: -97.1467, y: 31.5493 },
  { city: 'Amarillo', state: 'TX', x: -101.8313, y: 35.222 },
];

export const US_PLACES: readonly Place[] = [
  ...TEXAS_CITIES,
  { city: 'New Orleans', state: 'LA', x: -90.0715, y: 29.9511 },
  { city: 'Baton Rouge', state: 'LA', x: -91.1403, y: 30.4515 },
  { city: 'Miami', state: 'FL', x: -80.1918, y: 25.7617 },
  { city: 'Tampa', state: 'FL', x: -82.4572, y: 27.9506 },
  { city: 'Jacksonville', state: 'FL', x: -81.6557, y: 30.3322 },
  { city: 'Mobile', state: 'AL', x: -88.0399, y: 30.6954 },
  { city: 'Savannah', state: 'GA', x: -81.0998, y: 32.0809 },
  { city: 'Charleston', state: 'SC', x: -79.9311, y: 32.7765 },
  { city: 'Oklahoma City', state: 'OK', x: -97.5164, y: 35.4676 },
  { city: 'Little Rock', state: 'AR', x: -92.2896, y: 34.7465 },
  { city: 'Jackson', state: 'MS', x: -90.1848, y: 32.2988 },
  { city: 'Denver', state: 'CO', x: -104.9903, y: 39.7392 },
  { city: 'Phoenix', state: 'AZ', x: -112.074, y: 33.4484 },
  { city: 'Sacramento', state: 'CA', x: -121.4944, y: 38.5816 },
  { city: 'Portland', state: 'OR', x: -122.6765, y: 45.5231 },
];

export function pick<T>(items: readonly T[], rnd: () => number): T {
  const item = items[Math.floor(rnd() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A point scattered around a place (about ±0.25°). */
export function jitter(place: Place, rnd: () => number): { x: number; y: number } {
  return { x: round6(place.x + (rnd() - 0.5) * 0.5), y: round6(place.y + (rnd() - 0.5) * 0.5) };
}

export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
