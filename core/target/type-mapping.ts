/**
 * The reference's type mapping, in TypeScript terms, for rows declared from code: a zod object
 * schema stands in for `from_class`, and JS values become PostgreSQL text for COPY.
 *
 *   boolean → boolean          z.number().int() / z.int() → bigint    other number → double precision
 *   bigint → bigint            string → text (z.uuid() → uuid)        Date → timestamp with time zone
 *   Uint8Array → bytea         objects, arrays, records → jsonb       enum → text
 *   number[] / Float32Array with a vector schema → vector(n) or halfvec(n)
 *
 * Overrides, like the reference's `Annotated[..., PgType(...)]`: `.meta({ pgType: 'integer' })` on
 * the field or `columnOverrides` (a type string or `{ vector: n, kind? }`).
 */
import type { z } from 'zod';
import { TableSyncError } from '../errors';

export interface VectorSchema {
  vector: number;
  kind?: 'vector' | 'halfvec';
}
export type ColumnTypeOverride = string | VectorSchema;

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; format?: string }; bag?: Record<string, unknown> };
  meta?: () => Record<string, unknown> | undefined;
  format?: string | null;
}

export interface MappedColumn {
  type: string;
  nullable: boolean;
}

const vectorType = (v: VectorSchema) => `${v.kind ?? 'vector'}(${v.vector})`;

/** The PostgreSQL column for one zod field. */
export function mapZodField(name: string, field: z.ZodType, override?: ColumnTypeOverride): MappedColumn {
  let f = field as unknown as ZodLike;
  let nullable = false;
  let meta: Record<string, unknown> | undefined = f.meta?.();
  for (;;) {
    const t = f._zod.def.type;
    if ((t === 'optional' || t === 'nullable' || t === 'default' || t === 'readonly') && f._zod.def.innerType) {
      if (t !== 'readonly' && t !== 'default') nullable = true;
      f = f._zod.def.innerType;
      meta = meta ?? f.meta?.();
      continue;
    }
    break;
  }
  if (override !== undefined) return { type: typeof override === 'string' ? override : vectorType(override), nullable };
  if (typeof meta?.pgType === 'string') return { type: meta.pgType, nullable };
  if (typeof meta?.vector === 'number') return { type: vectorType({ vector: meta.vector, kind: meta.kind === 'halfvec' ? 'halfvec' : 'vector' }), nullable };
  const t = f._zod.def.type;
  switch (t) {
    case 'boolean': return { type: 'boolean', nullable };
    case 'number': return { type: f.format === 'safeint' || f.format === 'int32' ? 'bigint' : 'double precision', nullable };
    case 'bigint': return { type: 'bigint', nullable };
    case 'string': return { type: f.format === 'uuid' || f._zod.def.format === 'uuid' ? 'uuid' : 'text', nullable };
    case 'enum':
    case 'literal': return { type: 'text', nullable };
    case 'date': return { type: 'timestamp with time zone', nullable };
    case 'object':
    case 'array':
    case 'record':
    case 'tuple': return { type: 'jsonb', nullable };
    case 'custom': {
      const cls = f._zod.bag?.Class;
      if (cls === Uint8Array || cls === Buffer) return { type: 'bytea', nullable };
      if (cls === Float32Array) throw new TableSyncError('INVALID_INPUT', `field "${name}": a Float32Array needs a vector schema (.meta({ vector: n }) or columnOverrides)`);
      break;
    }
  }
  throw new TableSyncError('INVALID_INPUT', `field "${name}": no PostgreSQL type for zod type "${t}"; give one with .meta({ pgType: '…' }) or columnOverrides`);
}

const isVectorType = (type: string) => /^\s*(vector|halfvec)\b/i.test(type);
const isArrayType = (type: string) => /\[\]\s*$/.test(type);

function arrayLiteral(values: unknown[]): string {
  return `{${values
    .map((v) => {
      if (v === null || v === undefined) return 'NULL';
      if (Array.isArray(v)) return arrayLiteral(v);
      const s = scalarText(v);
      return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    })
    .join(',')}}`;
}

function scalarText(v: unknown): string {
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new TableSyncError('INVALID_INPUT', 'an invalid Date cannot be stored');
    return v.toISOString();
  }
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  return JSON.stringify(v);
}

/** A JS value as PostgreSQL text input for a column of `type`. */
export function toPgText(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (isVectorType(type) && (Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array)) {
    return `[${Array.from(value as ArrayLike<number>).join(',')}]`;
  }
  if (/^jsonb?$/i.test(type.trim())) return JSON.stringify(value);
  if (isArrayType(type) && Array.isArray(value)) return arrayLiteral(value);
  return scalarText(value);
}
