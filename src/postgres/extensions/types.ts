/**
 * A stand-in: a real PostgreSQL extension (a control file and install scripts in postgate's
 * private copy of the installation layout, see ../ephemeral/private-install.ts) that takes the
 * place of a Supabase extension this server does not have. `create extension`, `drop
 * extension`, `alter extension ... update`, `pg_extension` and `\dx` behave as on Supabase;
 * the objects it creates are members of the extension, with Supabase's names and signatures.
 * Nothing in a stand-in acts on the world: calls that would (HTTP, cron, queues) are recorded
 * and never carried out.
 */
export interface StandIn {
  /** The extension's name, as in `create extension <name>`. */
  readonly name: string;
  /** The version `create extension <name>` installs on Supabase. */
  readonly defaultVersion: string;
  /** Older versions that `create extension ... version '<v>'` may pin; each installs the same objects. */
  readonly olderVersions?: readonly string[];
  /** The schema the extension must live in (control file `schema`); unset: `with schema` or the first schema on the search path. */
  readonly schema?: string;
  /** `alter extension <name> set schema` works (objects are created unqualified in the target schema). */
  readonly relocatable: boolean;
  readonly requires?: readonly string[];
  /** The control file's comment, as `\dx` shows it. */
  readonly comment: string;
  /** Why postgate's stand-in is used even when the server has the real extension; unset: the real one wins. */
  readonly replacesReal?: string;
  /** What the stand-in does not do that the real extension does: said in the notice that lists stand-ins used. */
  readonly limits: string;
  /**
   * The install script. Its static SQL is in `.sql` files next to the stand-in's module; what
   * is generated (all of vector's and pg_hashids', most of wrappers') is built in TypeScript.
   * It runs as the cluster's superuser (stand-ins are trusted extensions, like Supabase's
   * privileged extensions), so it may declare `language internal` functions.
   * `@extschema@` is the extension's schema (not allowed when relocatable).
   */
  readonly sql: string;
}
