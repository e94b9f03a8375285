/** The pure part of `grant_only_from_legacy_default`: which privileges, grouped and rendered how. */
import { describe, expect, it } from 'vitest';
import type { CatalogObject, CatalogSnapshot } from '../../src/catalog/index.ts';
import { captureMigrationSql, type LegacyGrant, legacyGrantFindings, legacyOnlyGrants } from '../../src/gates/drift/legacy-grants.ts';

const TABLE_ALL_15 = 'DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE';
const TABLE_ALL_17 = `${TABLE_ALL_15},MAINTAIN`;

const object = (kind: CatalogObject['kind'], name: string, acl: Record<string, string>, schema = 'public'): CatalogObject => ({
  kind,
  schema,
  name,
  props: { owner: 'postgres', acl: { postgres: 'SELECT', ...acl } },
});
const snap = (objects: CatalogObject[], serverMajor = 15): CatalogSnapshot => ({
  format: 'postgate-catalog/1',
  profile: 'supabase',
  serverMajor,
  schemas: ['public'],
  objects,
});

describe('legacyOnlyGrants', () => {
  it("keeps the API roles' privileges the expected schema and the live database have and the configured replay lacks", () => {
    const expected = snap([
      object('table', 'a', { anon: TABLE_ALL_15, authenticated: TABLE_ALL_15, reporter: 'SELECT' }),
      object('table', 'explicit', { anon: 'SELECT' }),
      object('table', 'gone', { anon: 'SELECT' }),
      object('function', 'f(integer)', { anon: 'EXECUTE', PUBLIC: 'EXECUTE' }),
      object('index', 'a_pkey', {}),
    ]);
    const configured = snap([
      object('table', 'a', { authenticated: 'SELECT' }),
      object('table', 'explicit', { anon: 'SELECT' }),
      object('table', 'gone', {}),
      object('function', 'f(integer)', { PUBLIC: 'EXECUTE' }),
    ]);
    const live = snap([
      // someone revoked anon's DELETE by hand: that is schema drift, not captured
      object('table', 'a', { anon: 'INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE', authenticated: TABLE_ALL_15, reporter: 'SELECT' }),
      object('table', 'explicit', { anon: 'SELECT' }),
      object('function', 'f(integer)', { anon: 'EXECUTE', PUBLIC: 'EXECUTE' }),
    ]);
    expect(legacyOnlyGrants(expected, configured, live)).toEqual([
      {
        kind: 'table',
        schema: 'public',
        name: 'a',
        grants: {
          anon: ['SELECT', 'INSERT', 'UPDATE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
          authenticated: ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
        },
      },
      { kind: 'function', schema: 'public', name: 'f(integer)', grants: { anon: ['EXECUTE'] } },
    ]);
  });

  it('orders by schema, then tables, views, sequences, functions, then name', () => {
    const all = (kind: CatalogObject['kind'], name: string, schema = 'public') =>
      object(kind, name, { anon: kind === 'sequence' ? 'SELECT' : kind === 'function' ? 'EXECUTE' : 'SELECT' }, schema);
    const objects = [all('function', 'f()'), all('sequence', 's'), all('view', 'v'), all('table', 'b'), all('table', 'a'), all('table', 'z', 'api')];
    const none = snap(objects.map((o) => ({ ...o, props: { ...o.props, acl: {} } })));
    const order = legacyOnlyGrants(snap(objects), none, snap(objects)).map((g) => `${g.schema}.${g.name}`);
    expect(order).toEqual(['api.z', 'public.a', 'public.b', 'public.v', 'public.s', 'public.f()']);
  });
});

describe('captureMigrationSql', () => {
  const origins = new Map([
    ['table:public.invoices', { file: 'supabase/migrations/20240101000000_init.sql', line: 3 }],
    ['function:public.f(integer, text)', { file: 'supabase/migrations/20240102000000_f.sql' }],
  ]);

  it('groups roles with the same privileges, uses `all` only when the role has every privilege of the kind on that server', () => {
    const grants: LegacyGrant[] = [
      {
        kind: 'table',
        schema: 'public',
        name: 'invoices',
        grants: {
          anon: ['SELECT'],
          authenticated: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
          service_role: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
        },
      },
      { kind: 'sequence', schema: 'public', name: 'invoices_id_seq', grants: { anon: ['USAGE', 'SELECT'], authenticated: ['USAGE', 'SELECT'] } },
      { kind: 'function', schema: 'public', name: 'f(integer, text)', grants: { anon: ['EXECUTE'], service_role: ['EXECUTE'] } },
    ];
    expect(captureMigrationSql(grants, origins, 15)).toBe(
      [
        '-- table "public"."invoices" (supabase/migrations/20240101000000_init.sql:3)',
        'grant select on table "public"."invoices" to "anon";',
        'grant select, insert, update, delete on table "public"."invoices" to "authenticated";',
        'grant all on table "public"."invoices" to "service_role";',
        '',
        '-- sequence "public"."invoices_id_seq" (the applied migrations)',
        'grant usage, select on sequence "public"."invoices_id_seq" to "anon", "authenticated";',
        '',
        '-- function "public"."f"(integer, text) (supabase/migrations/20240102000000_f.sql)',
        'grant execute on function "public"."f"(integer, text) to "anon", "service_role";',
      ].join('\n'),
    );
    // on PostgreSQL 17 `all` includes MAINTAIN, which these grants lack
    expect(captureMigrationSql(grants.slice(0, 1), origins, 17)).toContain(
      'grant select, insert, update, delete, truncate, references, trigger on table "public"."invoices" to "service_role";',
    );
    const full17: LegacyGrant[] = [{ kind: 'table', schema: 'public', name: 'invoices', grants: { anon: TABLE_ALL_17.split(',') } }];
    expect(captureMigrationSql(full17, origins, 17)).toContain('grant all on table "public"."invoices" to "anon";');
  });

  it('quotes hostile names in the statements and escapes them in the comments', () => {
    const sql = captureMigrationSql([{ kind: 'table', schema: 'we"ird', name: 't\n::error::x', grants: { anon: ['SELECT'] } }], new Map(), 15);
    expect(sql).toBe('-- table "we""ird"."t\\n::error::x" (the applied migrations)\ngrant select on table "we""ird"."t\n::error::x" to "anon";');
  });
});

describe('legacyGrantFindings', () => {
  it('is one warning per schema, keyed by the schema, with the capture migration and its file name', () => {
    const grants: LegacyGrant[] = [
      { kind: 'table', schema: 'api', name: 'x', grants: { anon: ['SELECT'] } },
      { kind: 'table', schema: 'public', name: 'a', grants: { anon: ['SELECT'] } },
      { kind: 'view', schema: 'public', name: 'b', grants: { authenticated: ['SELECT'] } },
    ];
    const findings = legacyGrantFindings(grants, { origins: new Map(), migrationsDir: 'supabase/migrations', serverMajor: 15 });
    expect(findings.map((f) => [f.rule, f.severity, f.key])).toEqual([
      ['grant_only_from_legacy_default', 'warning', 'grant_only_from_legacy_default:schema:api'],
      ['grant_only_from_legacy_default', 'warning', 'grant_only_from_legacy_default:schema:public'],
    ]);
    expect(findings[1]!.message).toMatch(/^2 object\(s\) in schema public have Data API grants only because/);
    expect(findings[1]!.detail).toBe(
      'What a new environment would lose:\ntable "public"."a" (the applied migrations): anon select\nview "public"."b" (the applied migrations): authenticated select',
    );
    expect(findings[1]!.remediation).toContain('supabase/migrations/<timestamp>_capture_data_api_grants.sql');
    expect(findings[1]!.remediation).toContain('grant select on table "public"."b" to "authenticated";');
    expect(findings[1]!.remediation).not.toContain('"api"');
  });
});
