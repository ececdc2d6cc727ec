import { resolveField } from './field-lookup.js';
import type { AttributeValue, FieldDef, FieldType, LayerDef } from './layer-types.js';
import { invalidParameter } from './query-error.js';
import { compareRows, parseOrder } from './selection.js';

type StatType = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stddev' | 'var';
const STAT_TYPES: readonly StatType[] = ['count', 'sum', 'min', 'max', 'avg', 'stddev', 'var'];
const NUMERIC: readonly FieldType[] = [
  'esriFieldTypeOID',
  'esriFieldTypeInteger',
  'esriFieldTypeSmallInteger',
  'esriFieldTypeDouble',
  'esriFieldTypeDate',
];

interface StatDef {
  type: StatType;
  field: FieldDef;
  outName: string;
}

/**
 * `outStatistics` + `groupByFieldsForStatistics` (§8): one feature per group, group fields first.
 * The default output name `<type>_<field>` is [U]; clients should always send outStatisticFieldName.
 */
export function runStatistics(
  layer: LayerDef,
  selected: readonly number[],
  outStatistics: string,
  groupBy: string | undefined,
  orderByFields: string | undefined,
): Record<string, unknown> {
  const stats = parseStats(layer, outStatistics);
  const groupFields = (groupBy ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((name) => resolveField(layer, name));

  const groups = new Map<string, { key: AttributeValue[]; values: AttributeValue[][] }>();
  for (const index of selected) {
    const row = layer.rows[index];
    if (row === undefined) continue;
    const key = groupFields.map((f) => row.attributes[f.name] ?? null);
    const id = JSON.stringify(key);
    let group = groups.get(id);
    if (group === undefined) {
      group = { key, values: stats.map(() => []) };
      groups.set(id, group);
    }
    stats.forEach((s, i) => group?.values[i]?.push(row.attributes[s.field.name] ?? null));
  }
  // No rows and no grouping still yields one feature (count 0), as SQL aggregates do.
  if (groups.size === 0 && groupFields.length === 0)
    groups.set('[]', { key: [], values: stats.map(() => []) });

  let features = [...groups.values()].map((group) => {
    const attributes: Record<string, AttributeValue> = {};
    groupFields.forEach((f, i) => (attributes[f.name] = group.key[i] ?? null));
    stats.forEach((s, i) => (attributes[s.outName] = aggregate(s.type, group.values[i] ?? [])));
    return { attributes };
  });
  const names = [...groupFields.map((f) => f.name), ...stats.map((s) => s.outName)];
  const order = parseOrder(layer, orderByFields, names);
  if (order.length > 0)
    features = features.sort((a, b) =>
      compareRows(
        { attributes: a.attributes, geometry: null },
        { attributes: b.attributes, geometry: null },
        order,
      ),
    );

  return {
    displayFieldName: '',
    fieldAliases: Object.fromEntries(names.map((n) => [n, n])),
    fields: [
      ...groupFields.map((f) => ({
        name: f.name,
        type: f.type,
        alias: f.alias,
        ...(f.length === undefined ? {} : { length: f.length }),
      })),
      ...stats.map((s) => ({ name: s.outName, type: outType(s), alias: s.outName })),
    ],
    features,
  };
}

function parseStats(layer: LayerDef, text: string): StatDef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter('outStatistics');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw invalidParameter('outStatistics');
  return parsed.map((entry: unknown) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const type = String(e.statisticType ?? '').toLowerCase() as StatType;
    if (!STAT_TYPES.includes(type) || typeof e.onStatisticField !== 'string')
      throw invalidParameter('outStatistics');
    const field = resolveField(layer, e.onStatisticField);
    if (type !== 'count' && type !== 'min' && type !== 'max' && !NUMERIC.includes(field.type)) {
      throw invalidParameter('outStatistics');
    }
    const outName =
      typeof e.outStatisticFieldName === 'string' && e.outStatisticFieldName !== ''
        ? e.outStatisticFieldName
        : `${type}_${field.name}`;
    return { type, field, outName };
  });
}

function aggregate(type: StatType, values: readonly AttributeValue[]): AttributeValue {
  const present = values.filter((v): v is string | number => v !== null);
  if (type === 'count') return present.length;
  if (present.length === 0) return null;
  if (type === 'min' || type === 'max') {
    return present.reduce((best, v) => ((type === 'min' ? v < best : v > best) ? v : best));
  }
  const nums = present.map(Number);
  const sum = nums.reduce((a, b) => a + b, 0);
  if (type === 'sum') return sum;
  const mean = sum / nums.length;
  if (type === 'avg') return mean;
  // Sample variance, as SQL Server's VAR/STDEV.
  if (nums.length < 2) return null;
  const variance = nums.reduce((a, v) => a + (v - mean) ** 2, 0) / (nums.length - 1);
  return type === 'var' ? variance : Math.sqrt(variance);
}

function outType(stat: StatDef): FieldType {
  if (stat.type === 'count') return 'esriFieldTypeInteger';
  if (stat.type === 'min' || stat.type === 'max')
    return stat.field.type === 'esriFieldTypeOID' ? 'esriFieldTypeInteger' : stat.field.type;
  return 'esriFieldTypeDouble';
}
