// The MySQL and MariaDB column types my2pg knows, in one registry: the DDL parser, the schema
// reader, the row encoder, the Maxwell encoder, the type map and the default translator look a
// type up here (docs/TYPES.md lists what each becomes in the replica).

/**
 * What a type is, as far as its values go: integers, YEAR, DECIMAL, FLOAT, DOUBLE, BIT,
 * CHAR/VARCHAR, the TEXT sizes, ENUM, SET, BINARY/VARBINARY, the BLOB sizes, the temporal
 * types, JSON, the spatial types, and MariaDB's own types (which have no mapping yet).
 */
export type TypeFamily =
  | 'integer' | 'year' | 'decimal' | 'float' | 'double' | 'bit'
  | 'char' | 'text' | 'enum' | 'set' | 'binary' | 'blob'
  | 'date' | 'datetime' | 'timestamp' | 'time'
  | 'json' | 'geometry' | 'mariadb';

export interface MysqlType {
  /** The name the parser and the schema reader give a column of this type. */
  name: string;
  family: TypeFamily;
  /** Integers: the display width MySQL reports, signed and unsigned (NUMERIC_PRECISION). */
  precision?: readonly [signed: number, unsigned: number];
  /** TEXT and BLOB sizes: the most bytes a value holds. */
  maxBytes?: number;
  /** Character types: the type CHARACTER SET binary turns them into. */
  binary?: string;
}

export const MYSQL_TYPES: readonly MysqlType[] = [
  { name: 'tinyint', family: 'integer', precision: [3, 3] },
  { name: 'smallint', family: 'integer', precision: [5, 5] },
  { name: 'mediumint', family: 'integer', precision: [7, 8] },
  { name: 'int', family: 'integer', precision: [10, 10] },
  { name: 'bigint', family: 'integer', precision: [19, 20] },
  { name: 'year', family: 'year' },
  { name: 'decimal', family: 'decimal' },
  { name: 'float', family: 'float' },
  { name: 'double', family: 'double' },
  { name: 'bit', family: 'bit' },
  { name: 'char', family: 'char', binary: 'binary' },
  { name: 'varchar', family: 'char', binary: 'varbinary' },
  { name: 'tinytext', family: 'text', maxBytes: 255, binary: 'tinyblob' },
  { name: 'text', family: 'text', maxBytes: 65535, binary: 'blob' },
  { name: 'mediumtext', family: 'text', maxBytes: 16777215, binary: 'mediumblob' },
  { name: 'longtext', family: 'text', maxBytes: 4294967295, binary: 'longblob' },
  { name: 'enum', family: 'enum' },
  { name: 'set', family: 'set' },
  { name: 'binary', family: 'binary' },
  { name: 'varbinary', family: 'binary' },
  { name: 'tinyblob', family: 'blob', maxBytes: 255 },
  { name: 'blob', family: 'blob', maxBytes: 65535 },
  { name: 'mediumblob', family: 'blob', maxBytes: 16777215 },
  { name: 'longblob', family: 'blob', maxBytes: 4294967295 },
  { name: 'date', family: 'date' },
  { name: 'datetime', family: 'datetime' },
  { name: 'timestamp', family: 'timestamp' },
  { name: 'time', family: 'time' },
  { name: 'json', family: 'json' },
  ...['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection'].map(
    (name): MysqlType => ({ name, family: 'geometry' }),
  ),
  ...['inet4', 'inet6', 'uuid', 'vector'].map((name): MysqlType => ({ name, family: 'mariadb' })),
];

/**
 * Other names of the types above: synonyms DDL may use, and names an older event or
 * information_schema may carry (MySQL 8 reports GEOMETRYCOLLECTION as `geomcollection`).
 */
export const TYPE_ALIASES: Readonly<Record<string, string>> = {
  integer: 'int', int1: 'tinyint', int2: 'smallint', int3: 'mediumint', int4: 'int', int8: 'bigint',
  middleint: 'mediumint', dec: 'decimal', fixed: 'decimal', numeric: 'decimal', real: 'double',
  float4: 'float', float8: 'double', bool: 'tinyint', boolean: 'tinyint', character: 'char', nchar: 'char',
  nvarchar: 'varchar', geomcollection: 'geometrycollection',
};

const BY_NAME = new Map<string, MysqlType>(MYSQL_TYPES.map((t) => [t.name, t]));
for (const [alias, name] of Object.entries(TYPE_ALIASES)) BY_NAME.set(alias, BY_NAME.get(name)!);

/** The type of that name (lower case; aliases give the type they stand for), or undefined. */
export function mysqlType(name: string): MysqlType | undefined {
  return BY_NAME.get(name);
}

/** The family of a type name, undefined for a type my2pg does not know. */
export function typeFamily(name: string): TypeFamily | undefined {
  return BY_NAME.get(name)?.family;
}

/** The TEXT sizes, smallest first. */
export const TEXT_SIZES: readonly MysqlType[] = MYSQL_TYPES.filter((t) => t.family === 'text');

/** Integers, YEAR, DECIMAL, FLOAT and DOUBLE: the types whose values and defaults are numbers. */
export function isNumericFamily(f: TypeFamily | undefined): boolean {
  return f === 'integer' || f === 'year' || f === 'decimal' || f === 'float' || f === 'double';
}

/** True for the types that have a character set: CHAR, VARCHAR, the TEXT sizes, ENUM and SET. */
export function hasCharset(type: string): boolean {
  const f = typeFamily(type);
  return f === 'char' || f === 'text' || f === 'enum' || f === 'set';
}

/** BINARY, VARBINARY and the BLOB sizes: byte strings (Maxwell's charset "binary"). */
export function isBinaryFamily(f: TypeFamily | undefined): boolean {
  return f === 'binary' || f === 'blob';
}

/** DATETIME, TIMESTAMP and TIME: the types with fractional seconds. */
export function hasFractionalSeconds(f: TypeFamily | undefined): boolean {
  return f === 'datetime' || f === 'timestamp' || f === 'time';
}
