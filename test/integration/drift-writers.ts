/**
 * Test support: applies migrations to a database the way each real tool does, and
 * writes its history rows exactly as the tool writes them (same table DDL, same
 * INSERT, same transaction boundaries). Where each protocol was learned:
 *
 *   supabase        supabase/cli pkg/migration/history.go (CREATE_VERSION_TABLE, ADD_*_COLUMN,
 *                   INSERT_MIGRATION_VERSION) and file.go (ExecBatch: statements from
 *                   SplitAndTrim plus the INSERT in one implicit transaction)
 *   sqlx            launchbadge/sqlx sqlx-postgres/src/migrate.rs (ensure_migrations_table, apply:
 *                   script + INSERT ... VALUES ($1, $2, TRUE, $3, -1) in one transaction, then
 *                   UPDATE execution_time); checksum = SHA-384 of the file (sqlx-core migrate)
 *   prisma          prisma-engines schema-engine postgres connector: _prisma_migrations DDL, a row
 *                   inserted before the script (started_at), finished_at and
 *                   applied_steps_count set after it; checksum = SHA-256 hex
 *   drizzle         drizzle-orm src/pg-core/dialect.ts migrate(): schema "drizzle", table
 *                   __drizzle_migrations (id serial, hash text, created_at bigint), every pending
 *                   migration in one transaction, statements split at `--> statement-breakpoint`
 *   flyway          flyway-core createMetaDataTable.sql (PostgreSQL) and JdbcTableSchemaHistory
 *                   insert; installed_by = current_user; checksum = CRC32 per line
 *   golang-migrate  golang-migrate database/postgres/postgres.go: schema_migrations(version bigint,
 *                   dirty boolean); SetVersion = TRUNCATE + INSERT in a transaction, dirty=true
 *                   before running the file and dirty=false after
 *   dbmate          amacneil/dbmate pkg/driver/postgres/postgres.go: schema_migrations(version
 *                   varchar(255) primary key); up section and INSERT in one transaction
 *   node-pg-migrate src/migration.ts / runner.ts: pgmigrations(id serial, name varchar(255),
 *                   run_on timestamp); INSERT (name, run_on) VALUES (<file name>, NOW())
 *   graphile        graphile/migrate src/migration.ts: _migrateMigrationSchema DDL and
 *                   runStringMigration (begin, body, INSERT (hash, previous_hash, filename), commit)
 *   goose           pressly/goose postgres dialect: goose_db_version (id serial, version_id bigint,
 *                   is_applied boolean, tstamp timestamp default now()), the version 0 marker row
 *                   on creation; up section and INSERT (version_id, is_applied) in one transaction
 *                   (after the SQL, without one, for `-- +goose NO TRANSACTION`)
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { flywayChecksum, prismaChecksum, sqlxChecksum } from '../../src/migrations/checksums.ts';
import { splitSupabaseStatements } from '../../src/migrations/supabase-split.ts';
import type { Migration, MigrationTool } from '../../src/migrations/types.ts';

export type Writer = (client: pg.Client, migrations: Migration[]) => Promise<void>;

async function inTransaction(client: pg.Client, fn: () => Promise<void>): Promise<void> {
  await client.query('begin');
  try {
    await fn();
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

export const WRITERS: Record<MigrationTool, Writer> = {
  async supabase(client, migrations) {
    await client.query("SET lock_timeout = '4s'");
    await client.query('CREATE SCHEMA IF NOT EXISTS supabase_migrations');
    await client.query('CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY)');
    await client.query('ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[]');
    await client.query('ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text');
    for (const m of migrations) {
      const statements = splitSupabaseStatements(m.raw).map((s) => s.text);
      await inTransaction(client, async () => {
        for (const statement of statements) await client.query(statement);
        await client.query('INSERT INTO supabase_migrations.schema_migrations(version, name, statements) VALUES($1, $2, $3)', [m.version, m.name, statements]);
      });
    }
  },
  async sqlx(client, migrations) {
    await client.query(`CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
)`);
    for (const m of migrations) {
      await inTransaction(client, async () => {
        await client.query(m.sql);
        await client.query('INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time ) VALUES ( $1, $2, TRUE, $3, -1 )', [
          m.id,
          m.name,
          sqlxChecksum(Buffer.from(m.raw, 'utf8')),
        ]);
      });
      await client.query('UPDATE _sqlx_migrations SET execution_time = $1 WHERE version = $2', [1_000_000, m.id]);
    }
  },
  async prisma(client, migrations) {
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`);
    for (const m of migrations) {
      const id = randomUUID();
      await client.query(
        'INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count") VALUES ($1, $2, $3, now(), 0)',
        [id, prismaChecksum(m.raw), m.id],
      );
      await client.query(m.sql);
      await client.query('UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = "applied_steps_count" + 1 WHERE "id" = $1', [id]);
    }
  },
  async drizzle(client, migrations) {
    await client.query('CREATE SCHEMA IF NOT EXISTS "drizzle"');
    await client.query(
      'CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (\n\t\t\tid SERIAL PRIMARY KEY,\n\t\t\thash text NOT NULL,\n\t\t\tcreated_at bigint\n\t\t)',
    );
    await inTransaction(client, async () => {
      for (const m of migrations) {
        for (const statement of m.raw.split('--> statement-breakpoint')) await client.query(statement);
        const hash = createHash('sha256').update(m.raw).digest('hex');
        await client.query(`insert into "drizzle"."__drizzle_migrations" ("hash", "created_at") values('${hash}', '${m.when}')`);
      }
    });
  },
  async flyway(client, migrations) {
    await client.query(`CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");`);
    let rank = 1;
    for (const m of migrations) {
      await inTransaction(client, async () => {
        await client.query(m.sql);
        await client.query(
          'INSERT INTO "public"."flyway_schema_history" ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success") VALUES ($1, $2, $3, $4, $5, $6, current_user, $7, $8)',
          [rank++, m.kind === 'repeatable' ? null : m.version, m.name, 'SQL', m.file.split('/').pop(), flywayChecksum(m.raw), 12, true],
        );
      });
    }
  },
  async 'golang-migrate'(client, migrations) {
    await client.query('CREATE TABLE IF NOT EXISTS "schema_migrations" (version bigint not null primary key, dirty boolean not null)');
    const setVersion = (version: string, dirty: boolean) =>
      inTransaction(client, async () => {
        await client.query('TRUNCATE "schema_migrations"');
        await client.query('INSERT INTO "schema_migrations" (version, dirty) VALUES ($1, $2)', [version, dirty]);
      });
    for (const m of migrations) {
      await setVersion(m.id, true);
      await client.query(m.sql);
      await setVersion(m.id, false);
    }
  },
  async dbmate(client, migrations) {
    await client.query('create table if not exists "public"."schema_migrations" (version varchar(255) primary key)');
    for (const m of migrations) {
      await inTransaction(client, async () => {
        await client.query(m.sql);
        await client.query('insert into "public"."schema_migrations" (version) values ($1)', [m.version]);
      });
    }
  },
  async 'node-pg-migrate'(client, migrations) {
    await client.query('CREATE TABLE IF NOT EXISTS "public"."pgmigrations" ( id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL)');
    for (const m of migrations) {
      await inTransaction(client, async () => {
        await client.query(m.sql);
        await client.query(`INSERT INTO "public"."pgmigrations" (name, run_on) VALUES ('${m.id}', NOW());`);
      });
    }
  },
  async 'graphile-migrate'(client, migrations) {
    await client.query(`
    create schema if not exists graphile_migrate;

    create table if not exists graphile_migrate.migrations (
      hash text primary key,
      previous_hash text references graphile_migrate.migrations,
      filename text not null,
      date timestamptz not null default now()
    );

    create table if not exists graphile_migrate.current (
      filename text primary key default 'current.sql',
      content text not null,
      date timestamptz not null default now()
    );
  `);
    for (const m of migrations) {
      await inTransaction(client, async () => {
        await client.query(m.sql);
        await client.query('insert into graphile_migrate.migrations(hash, previous_hash, filename) values ($1, $2, $3)', [
          m.header!.hash,
          m.header!.previousHash,
          m.id,
        ]);
      });
    }
  },
  async goose(client, migrations) {
    const { rows } = await client.query<{ exists: boolean }>("select to_regclass('public.goose_db_version') is not null as exists");
    if (!rows[0]!.exists) {
      await client.query(
        'CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))',
      );
      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, $2)', [0, true]);
    }
    for (const m of migrations) {
      const record = () => client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, $2)', [m.id, true]);
      if (m.noTransaction) {
        await client.query(m.sql);
        await record();
      } else {
        await inTransaction(client, async () => {
          await client.query(m.sql);
          await record();
        });
      }
    }
  },
  async plain(client, migrations) {
    for (const m of migrations) await client.query(m.sql);
  },
};

/** Writes a failed / dirty row the way the tool leaves one behind after a failing migration. */
export const FAILED_ROW: Partial<Record<MigrationTool, (client: pg.Client, m: Migration) => Promise<void>>> = {
  async sqlx(client, m) {
    // sqlx's no-transaction migrations record success = false when they fail.
    await client.query('INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time ) VALUES ( $1, $2, FALSE, $3, -1 )', [
      m.id,
      m.name,
      sqlxChecksum(Buffer.from(m.raw, 'utf8')),
    ]);
  },
  async prisma(client, m) {
    await client.query(
      'INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count", "logs") VALUES ($1, $2, $3, now(), 0, $4)',
      [randomUUID(), prismaChecksum(m.raw), m.id, 'Database error code: 42P07'],
    );
  },
  async flyway(client, m) {
    const { rows } = await client.query<{ n: number }>('select coalesce(max(installed_rank), 0) + 1 as n from "public"."flyway_schema_history"');
    await client.query(
      'INSERT INTO "public"."flyway_schema_history" ("installed_rank", "version", "description", "type", "script", "checksum", "installed_by", "execution_time", "success") VALUES ($1, $2, $3, $4, $5, $6, current_user, $7, $8)',
      [rows[0]!.n, m.version, m.name, 'SQL', m.file.split('/').pop(), flywayChecksum(m.raw), 3, false],
    );
  },
  async 'golang-migrate'(client, m) {
    await client.query('TRUNCATE "schema_migrations"');
    await client.query('INSERT INTO "schema_migrations" (version, dirty) VALUES ($1, $2)', [m.id, true]);
  },
};
