/** `postgate doctor`: what this machine and repository give postgate to work with. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { findInstallations } from './postgres/ephemeral/binaries.ts';
import { dockerUnavailableReason } from './postgres/ephemeral/docker.ts';

export interface DoctorReport {
  node: { version: string; ok: boolean };
  postgres: Array<{ major: number; version: string; source: string; binDir: string; clientTools: boolean }>;
  docker: { available: boolean; reason?: string };
  project: { supabase: boolean; configFile?: string; migrationDirs: Array<{ dir: string; files: number }> };
}

const MIGRATION_DIR_CANDIDATES = [
  'supabase/migrations',
  'migrations',
  'prisma/migrations',
  'drizzle',
  'db/migrations',
  'db/migration',
  'sql',
  'src/main/resources/db/migration',
];

export async function runDoctor(cwd: string): Promise<DoctorReport> {
  const major = Number(process.versions.node.split('.')[0]);
  const reason = await dockerUnavailableReason();
  const migrationDirs = MIGRATION_DIR_CANDIDATES.filter((dir) => existsSync(path.join(cwd, dir))).map((dir) => ({
    dir,
    files: readdirSync(path.join(cwd, dir), { recursive: true }).filter((f) => String(f).endsWith('.sql')).length,
  }));
  const configFile = ['.github/postgate.yml', '.github/postgate.yaml'].find((file) => existsSync(path.join(cwd, file)));
  return {
    node: { version: process.version, ok: major >= 22 },
    postgres: findInstallations().map((i) => ({
      major: i.major,
      version: i.version,
      source: i.source,
      binDir: i.binDir,
      clientTools: i.hasClientTools,
    })),
    docker: reason ? { available: false, reason } : { available: true },
    project: {
      supabase: existsSync(path.join(cwd, 'supabase', 'config.toml')),
      ...(configFile ? { configFile } : {}),
      migrationDirs,
    },
  };
}

export function renderDoctor(report: DoctorReport): string {
  const lines = ['postgate doctor'];
  lines.push(`  Node.js     ${report.node.version} ${report.node.ok ? '(ok, >= 22)' : '(too old: postgate needs Node >= 22)'}`);
  if (report.postgres.length === 0) {
    lines.push('  PostgreSQL  no server binaries found (install PostgreSQL, set PG_BIN, or use Docker)');
  }
  report.postgres.forEach((pg, index) => {
    const tools = pg.clientTools ? 'server + psql, pg_dump, pg_restore' : 'server only';
    lines.push(`  ${index === 0 ? 'PostgreSQL ' : '           '} ${pg.version.padEnd(6)} ${pg.source.padEnd(9)} ${pg.binDir} (${tools})`);
  });
  lines.push(`  Docker      ${report.docker.available ? 'available' : `no Docker engine: ${report.docker.reason}`}`);
  const project = report.project;
  const dirs = project.migrationDirs.map((d) => `${d.dir} (${d.files} .sql)`).join(', ') || 'none found';
  lines.push(
    `  Project     ${project.supabase ? 'Supabase project (supabase/config.toml)' : 'no supabase/config.toml'}; migrations: ${dirs}; config: ${project.configFile ?? 'none'}`,
  );
  return `${lines.join('\n')}\n`;
}
