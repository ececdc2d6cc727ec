import { describe, expect, it } from 'vitest';
import { compileWhere } from '../../src/sandbox/features/where-compile.js';
import type { FeatureRow, LayerDef } from '../../src/sandbox/features/layer-types.js';
import { int, oid, text } from '../../src/sandbox/features/layer-types.js';
import { QueryError } from '../../src/sandbox/features/query-error.js';

const rows: FeatureRow[] = [
  { attributes: { OBJECTID: 1, NAME: "O'Brien Hall", N: 5 }, geometry: null },
  { attributes: { OBJECTID: 2, NAME: '100% Club', N: null }, geometry: null },
  { attributes: { OBJECTID: 3, NAME: 'a_b', N: -3 }, geometry: null },
];
const layer: LayerDef = {
  id: 0,
  name: 'T',
  kind: 'Table',
  geometryType: null,
  objectIdField: 'OBJECTID',
  displayField: 'NAME',
  fields: [oid(), text('NAME', 50), int('N')],
  maxRecordCount: 10,
  supportsPagination: true,
  rows,
  extent: null,
};
const ids = (where: string): number[] =>
  rows.filter(compileWhere(layer, where)).map((r) => Number(r.attributes.OBJECTID));

describe('where grammar', () => {
  it('escapes quotes and LIKE wildcards', () => {
    expect(ids("NAME = 'O''Brien Hall'")).toEqual([1]);
    expect(ids("NAME LIKE '100\\% %' ESCAPE '\\'")).toEqual([2]);
    expect(ids("NAME LIKE 'a\\_b' ESCAPE '\\'")).toEqual([3]);
    expect(ids("NAME LIKE 'a_b'")).toEqual([3]);
  });

  it('reads negative numbers and precedence (AND binds tighter than OR)', () => {
    expect(ids('N = -3')).toEqual([3]);
    expect(ids('N=-3')).toEqual([3]);
    // Arithmetic is not modelled: it is refused rather than misread.
    expect(() => ids('N - 3 = 0')).toThrow(QueryError);
    expect(ids("N > 0 OR N < 0 AND NAME = 'nope'")).toEqual([1]);
    expect(ids("(N > 0 OR N < 0) AND NAME = 'a_b'")).toEqual([3]);
  });

  it('uses three-valued logic for NULL', () => {
    expect(ids('NOT N > 0')).toEqual([3]);
    expect(ids('N IS NULL OR N > 0')).toEqual([1, 2]);
    expect(ids('N IN (5, NULL)')).toEqual([1]);
    expect(ids('N NOT IN (5, NULL)')).toEqual([]);
  });

  it('treats field names case-insensitively and keywords as keywords', () => {
    expect(ids('n = 5 and objectid = 1')).toEqual([1]);
  });

  it('throws the §2 detail for unknown fields and syntax errors', () => {
    expect(() => compileWhere(layer, 'X = 1')).toThrow(
      new QueryError("'Invalid field: X' parameter is invalid"),
    );
    for (const bad of [
      'N =',
      "NAME = 'x",
      'N = 1 AND',
      '(N = 1',
      'N = 1)',
      'N IN ()',
      "N LIKE 'x' ESCAPE 'ab'",
      'AND = 1',
      'N ~ 2',
    ]) {
      expect(() => compileWhere(layer, bad), bad).toThrow(QueryError);
    }
  });
});
