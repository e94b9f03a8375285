/**
 * pg_tle stand-in: the management interface of pg_tle 1.4.0 (Trusted Language Extensions; the
 * version Supabase ships, used by database.dev's dbdev), written from pg_tle's documentation.
 * Installs are recorded in the pgtle schema so migrations that install packages apply and can be
 * inspected:
 *
 *   pgtle.install_extension(name, version, description, ext, requires text[] default null) -> boolean
 *   pgtle.install_extension_version_sql(name, version, ext) -> boolean
 *   pgtle.install_update_path(name, fromvers, tovers, ext) -> boolean
 *   pgtle.set_default_version(name, version) -> boolean
 *   pgtle.uninstall_extension(extname) / (extname, version) / uninstall_extension_if_exists(extname)
 *   pgtle.uninstall_update_path(extname, fromvers, tovers) / ..._if_exists
 *   pgtle.available_extensions() -> (name, default_version, comment)
 *   pgtle.available_extension_versions() -> (name, version, superuser, trusted, relocatable,
 *     schema, requires, comment)
 *   pgtle.extension_update_paths(name) -> (source, target, path)
 *   pgtle.register_feature(proc, feature) / _if_not_exists, unregister_feature / _if_exists,
 *   pgtle.feature_info, type pgtle.pg_tle_features
 * with pg_tle's errors for installing an extension twice, a version twice, or removing what is
 * not installed. The role pgtle_admin is created when missing (roles are cluster-wide and outlive
 * the extension, as with pg_tle), may use the management functions and create in schema pgtle;
 * as Supabase's after-create script does, `postgres` is made a member of it when that role exists.
 *
 * Not supported: `create extension <name>` of an extension installed this way. pg_tle makes
 * PostgreSQL find such extensions through a hook in its C library; without it PostgreSQL only
 * knows the extensions on disk, so the statement fails with "extension ... is not available".
 * Hooks (passcheck, clientauth) are recorded, never called.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PG_TLE: StandIn = {
  name: 'pg_tle',
  defaultVersion: '1.4.0',
  olderVersions: ['1.3.4', '1.3.2', '1.0.4'],
  schema: 'pgtle',
  relocatable: false,
  comment: 'Trusted Language Extensions for PostgreSQL',
  limits:
    'pgtle.install_extension and the other management functions record what is installed, but CREATE EXTENSION of an extension installed that way is not supported (pg_tle finds them through a C hook), and hooks never run.',
  sql: readSqlAsset(new URL('./pg-tle.sql', import.meta.url)),
};
