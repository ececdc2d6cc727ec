import type { ServiceDef } from '../layer-types.js';
import { hydrantsLayer } from './hydrants.js';
import { incidentsLayer } from './incidents.js';
import { parksLayer } from './parks.js';
import { inspectionsTable, sheltersLayer } from './shelters.js';

/**
 * The services each server hosts. Service names are the URL segments; the ready line points at
 * them (sandbox.ts).
 */
export function hostingServices(): ServiceDef[] {
  return [
    { name: 'Parks', access: 'public', description: 'Public parks (public layer).', layers: [parksLayer()] },
    {
      name: 'Texas_Shelters',
      access: 'org',
      description: 'Emergency shelters in Texas (org-private).',
      layers: [sheltersLayer(), inspectionsTable()],
    },
    {
      name: 'Incidents',
      access: 'org',
      description: '100,000 incidents (org-private, large).',
      layers: [incidentsLayer()],
    },
    {
      name: 'Hydrants_Koop',
      access: 'public',
      description: 'A Koop-like layer without pagination support (arcgis-protocol.md §12).',
      layers: [
        hydrantsLayer({
          seed: 4004,
          count: 2500,
          name: 'Hydrants',
          maxRecordCount: 1000,
          supportsPagination: false,
        }),
      ],
    },
  ];
}

/** Enterprise mode: a federated server's secured service (server tokens only, §4/§11). */
export function federatedServices(): ServiceDef[] {
  return [
    {
      name: 'Water_Network',
      access: 'org',
      description: 'Hydrants on a federated ArcGIS Server.',
      layers: [
        hydrantsLayer({
          seed: 5005,
          count: 400,
          name: 'Hydrants',
          maxRecordCount: 1000,
          supportsPagination: true,
        }),
      ],
    },
  ];
}

/** Enterprise mode: an unfederated server with its own token service. */
export function unfederatedServices(): ServiceDef[] {
  return [
    {
      name: 'Public_Parks',
      access: 'public',
      description: 'Parks on an unfederated server.',
      layers: [parksLayer()],
    },
    {
      name: 'Utility_Hydrants',
      access: 'org',
      description: 'Hydrants on an unfederated server (its own tokens).',
      layers: [
        hydrantsLayer({
          seed: 6006,
          count: 300,
          name: 'Hydrants',
          maxRecordCount: 1000,
          supportsPagination: true,
        }),
      ],
    },
  ];
}
