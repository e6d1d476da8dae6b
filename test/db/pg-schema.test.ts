/**
 * db/pg/schema.ts declares, for drizzle-kit, the PostgreSQL tables that queries built from
 * db/schema.ts run against: both must name the same tables, columns, nullability, defaults,
 * keys and indexes, or a query would address a column PostgreSQL does not have.
 */
import { getTableName, is } from 'drizzle-orm';
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pgSchema from '../../db/pg/schema';
import * as sqliteSchema from '../../db/schema';

interface Shape {
  columns: { name: string; notNull: boolean; primary: boolean; hasDefault: boolean }[];
  primaryKeys: string[][];
  indexes: { name: string; columns: string[]; unique: boolean; where: boolean }[];
  foreignKeys: string[];
}

function shape(config: ReturnType<typeof pgConfig> | ReturnType<typeof sqliteConfig>): Shape {
  return {
    columns: config.columns
      .map((c) => ({
        name: c.name,
        notNull: c.notNull,
        primary: c.primary,
        // An SQLite INTEGER PRIMARY KEY always has one (the rowid); audit_log.seq is always given.
        hasDefault: c.primary ? false : c.hasDefault,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    primaryKeys: config.primaryKeys.map((k) => k.columns.map((c) => c.name)),
    indexes: config.indexes
      .map((i) => ({
        name: i.config.name ?? '',
        columns: i.config.columns.map((c) => ('name' in c ? String(c.name) : '?')),
        unique: i.config.unique,
        where: i.config.where !== undefined,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    foreignKeys: config.foreignKeys
      .map((f) => {
        const r = f.reference();
        return `${r.columns.map((c) => c.name).join(',')}->${getTableName(r.foreignTable)}`;
      })
      .sort(),
  };
}

const sqliteTables = Object.values(sqliteSchema).filter((t) => is(t, SQLiteTable));
const pgTables = Object.values(pgSchema).filter((t) => is(t, PgTable));

describe('PostgreSQL schema mirrors the SQLite schema', () => {
  it('declares the same tables', () => {
    expect(pgTables.map((t) => getTableName(t)).sort()).toEqual(
      sqliteTables.map((t) => getTableName(t)).sort(),
    );
  });

  it.each(sqliteTables.map((t) => [getTableName(t), t] as const))(
    'table %s has the same shape',
    (name, t) => {
      const mirror = pgTables.find((p) => getTableName(p) === name)!;
      expect(shape(pgConfig(mirror))).toEqual(shape(sqliteConfig(t)));
    },
  );
});
