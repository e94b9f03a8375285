import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { parseDatabaseUrl, redactUrl, withDatabase } from '../../src/postgres/url.ts';
import { redact } from '../../src/secrets.ts';

describe('parseDatabaseUrl', () => {
  it('reads host, port, user, database and defaults sslmode to prefer', () => {
    const t = parseDatabaseUrl('postgresql://app:s3cr%40t@db.example.com:6432/main');
    expect(t).toMatchObject({ host: 'db.example.com', port: 6432, user: 'app', database: 'main', sslmode: 'prefer', password: 's3cr@t' });
    expect(t.label).toBe('app@db.example.com:6432/main');
    expect(t.label).not.toContain('s3cr');
  });

  it('registers the password so every output hides it, raw and encoded', () => {
    parseDatabaseUrl('postgres://u:Pa%24%24w0rd!x@h/db');
    expect(redact('pw=Pa$$w0rd!x enc=Pa%24%24w0rd!x')).toBe('pw=*** enc=***');
  });

  it.each(['disable', 'require', 'verify-ca', 'verify-full'] as const)('accepts sslmode=%s', (mode) => {
    expect(parseDatabaseUrl(`postgresql://u@h/db?sslmode=${mode}`).sslmode).toBe(mode);
  });

  it('treats allow as prefer and sockets as no TLS', () => {
    expect(parseDatabaseUrl('postgresql://u@h/db?sslmode=allow').sslmode).toBe('prefer');
    expect(parseDatabaseUrl('postgresql://u@/db?host=/var/run/postgresql').sslmode).toBe('disable');
  });

  it('detects Supabase poolers', () => {
    expect(parseDatabaseUrl('postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:6543/postgres').pooler).toBe('transaction');
    expect(parseDatabaseUrl('postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:5432/postgres').pooler).toBe('session');
    expect(parseDatabaseUrl('postgresql://u:p@db.abc.supabase.co:6543/postgres').pooler).toBe('transaction');
    expect(parseDatabaseUrl('postgresql://u:p@db.abc.supabase.co:5432/postgres').pooler).toBe('none');
    expect(parseDatabaseUrl('postgresql://u:p@anything:5432/postgres?pgbouncer=true').pooler).toBe('transaction');
  });

  it('rejects other schemes in one sentence without echoing the URL', () => {
    const attempt = () => parseDatabaseUrl('mysql://root:hunter2@h/db');
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/must start with postgresql:\/\/ or postgres:\/\/ \(got a URL with scheme "mysql:"\)/);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects unknown sslmode and bad ports', () => {
    expect(() => parseDatabaseUrl('postgresql://u@h/db?sslmode=maybe')).toThrow(/sslmode "maybe"/);
    expect(() => parseDatabaseUrl('postgresql://u@h:0/db')).toThrow(/invalid port/);
  });

  it('rewrites the database and redacts for printing', () => {
    expect(withDatabase('postgresql://u:p@h:5/a?sslmode=disable', 'b')).toBe('postgresql://u:p@h:5/b?sslmode=disable');
    expect(redactUrl('postgresql://u:topsecret@h/db')).toBe('postgresql://u:***@h/db');
  });
});
