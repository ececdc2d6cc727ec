import type { FieldDef, LayerDef } from './layer-types.js';
import { invalidField } from './query-error.js';

/** Field names are case-insensitive in where, outFields, orderByFields and statistics (§10.6). */
export function resolveField(layer: LayerDef, name: string): FieldDef {
  const wanted = name.trim().toUpperCase();
  const field = layer.fields.find((f) => f.name.toUpperCase() === wanted);
  if (field === undefined) throw invalidField(name.trim());
  return field;
}

/** `outFields`: `*` or a comma list; an empty value means the object id only. */
export function resolveOutFields(layer: LayerDef, outFields: string | undefined): FieldDef[] {
  const raw = (outFields ?? '').trim();
  if (raw === '*') return layer.fields;
  if (raw === '') return layer.fields.filter((f) => f.name === layer.objectIdField);
  const seen = new Set<string>();
  const fields: FieldDef[] = [];
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    if (part.trim() === '*') return layer.fields;
    const field = resolveField(layer, part);
    if (!seen.has(field.name)) {
      seen.add(field.name);
      fields.push(field);
    }
  }
  return fields;
}
