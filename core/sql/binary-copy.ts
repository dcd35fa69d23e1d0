/**
 * Which columns may travel in COPY's binary format between two servers. Binary COPY is the type's
 * send/receive form, so it is only safe when the exact same type exists on both sides with the same
 * wire form. We stay conservative:
 * - built-in base types whose binary form has not changed in the supported majors (14+; integer
 *   datetimes are the only kind since 10, numeric/jsonb/uuid/inet forms are versioned or fixed),
 *   and arrays of them (array_send carries the element type's OID, which is fixed for built-ins);
 * - enums (enum_send is the label's text; enum_recv looks the label up, exactly like text input).
 * Everything else goes as text: domains (the target's domain of the same name may have another
 * base type), composites and arrays of user types (their wire form carries OIDs that differ between
 * databases), ranges, extension types (pgvector…), money (locale), xml (encoding rules), and any
 * type not listed here. Text-like values are sent in the server encoding, so both databases must
 * be UTF-8 (checked by the caller).
 */

const BUILTIN_BINARY = new Set([
  16 /* bool */, 17 /* bytea */, 18 /* char */, 19 /* name */, 20 /* int8 */, 21 /* int2 */, 23 /* int4 */, 25 /* text */,
  26 /* oid */, 114 /* json */, 650 /* cidr */, 700 /* float4 */, 701 /* float8 */, 829 /* macaddr */, 869 /* inet */,
  1042 /* bpchar */, 1043 /* varchar */, 1082 /* date */, 1083 /* time */, 1114 /* timestamp */, 1184 /* timestamptz */,
  1186 /* interval */, 1266 /* timetz */, 1560 /* bit */, 1562 /* varbit */, 1700 /* numeric */, 2950 /* uuid */, 3802 /* jsonb */,
  // their arrays
  1000, 1001, 1002, 1003, 1016, 1005, 1007, 1009, 1028, 199, 651, 1021, 1022, 1040, 1041, 1014, 1015, 1182, 1183, 1115, 1185,
  1187, 1270, 1561, 1563, 1231, 2951, 3807,
]);

/** A source column's type as the catalog describes it (ColumnInfo's fields that matter here). */
export interface BinaryTypeFacts {
  typeOid: number;
  category: string;
}

/** True when values of this type may be moved in binary COPY to a target column of the same type. */
export function binaryCopySafe(c: BinaryTypeFacts): boolean {
  return BUILTIN_BINARY.has(c.typeOid) || c.category === 'enum';
}
