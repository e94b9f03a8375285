/**
 * Supabase Vault secrets by name, read from `vault.decrypted_secrets` (read-only). The
 * decrypted value is registered with the masker before it leaves this function.
 */
import { UserError } from '../../errors.ts';
import type { Session } from '../../postgres/connect.ts';
import { registerSecret } from '../../secrets.ts';

export interface VaultSecret {
  name: string;
  /** undefined when the row exists but Vault returned no decrypted value. */
  value: string | undefined;
  updatedAt: Date;
}

export type VaultRead = { installed: false } | { installed: true; secrets: Map<string, VaultSecret> };

function privilegeError(role: string, names: readonly string[]): UserError {
  return new UserError(
    `Reading Vault secret${names.length > 1 ? 's' : ''} ${names.map((n) => `"${n}"`).join(', ')} needs USAGE on schema vault and SELECT on vault.decrypted_secrets, which role "${role}" lacks; grant them (\`grant usage on schema vault to ${role}; grant select on vault.decrypted_secrets to ${role};\`) or connect as a role that has them, such as postgres.`,
  );
}

export async function readVaultSecrets(session: Session, names: readonly string[]): Promise<VaultRead> {
  const access = await session.query<{ installed: boolean; allowed: boolean | null; role: string }>(
    `select c.oid is not null as installed,
            pg_catalog.has_schema_privilege(n.oid, 'usage') and pg_catalog.has_table_privilege(c.oid, 'select') as allowed,
            current_user::text as role
       from (select 1) as one
       left join pg_catalog.pg_namespace n on n.nspname = 'vault'
       left join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = 'decrypted_secrets'`,
  );
  const { installed, allowed, role } = access.rows[0]!;
  if (!installed) return { installed: false };
  if (!allowed) throw privilegeError(role, names);
  let rows: Array<{ name: string; value: string | null; updated_at: Date }>;
  try {
    rows = (
      await session.query<{ name: string; value: string | null; updated_at: Date }>(
        'select name, decrypted_secret as value, updated_at from vault.decrypted_secrets where name = any($1::text[])',
        [names],
      )
    ).rows;
  } catch (error) {
    // real Vault decrypts through pgsodium functions that need their own grants
    if ((error as { code?: string }).code === '42501') throw privilegeError(role, names);
    throw error;
  }
  for (const row of rows) registerSecret(row.value);
  const secrets = new Map<string, VaultSecret>();
  for (const row of rows) secrets.set(row.name, { name: row.name, value: row.value ?? undefined, updatedAt: row.updated_at });
  return { installed: true, secrets };
}
