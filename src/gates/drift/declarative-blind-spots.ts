/**
 * What declarative diffing (`supabase db diff` from `supabase/schemas`) cannot see, so a team
 * writes it in a migration by hand: such a migration has no counterpart in the schema files by
 * design, and the declarative comparison must not call it drift. Data statements (insert,
 * update, delete, copy) change no catalog object, so they never become a difference; the rest
 * are property changes listed here, each left out only when nothing else about the object differs.
 */
import type { CatalogKind, SchemaDifference } from '../../catalog/index.ts';

export interface BlindSpot {
  /** For the docs. */
  what: string;
  kinds: readonly CatalogKind[];
  /** The properties of those kinds the declarative diff does not carry. */
  properties: readonly string[];
}

export const DECLARATIVE_BLIND_SPOTS: readonly BlindSpot[] = [
  { what: 'privileges on views and materialized views', kinds: ['view', 'materialized_view'], properties: ['acl'] },
  { what: 'column privileges (`grant select (col) on t`)', kinds: ['column'], properties: ['acl'] },
  { what: 'the tables of a publication (`alter publication ... add table`)', kinds: ['publication'], properties: ['tables'] },
  {
    what: 'comments on constraints, indexes, triggers, policies, sequences, domains, publications and extensions',
    kinds: ['constraint', 'index', 'trigger', 'policy', 'sequence', 'domain', 'publication', 'extension'],
    properties: ['comment'],
  },
];

/** The blind spots as one sentence, for the rule's doc. */
export const BLIND_SPOTS_SENTENCE = `data statements (insert, update, delete, copy: they change no catalog object), ${DECLARATIVE_BLIND_SPOTS.map((b) => b.what).join(', ')}`;

/** A difference made only of properties declarative diffing cannot see. */
export function isBlindSpot(difference: SchemaDifference): boolean {
  if (difference.change !== 'changed' || difference.changes.length === 0) return false;
  return difference.changes.every((change) =>
    DECLARATIVE_BLIND_SPOTS.some((spot) => spot.kinds.includes(difference.kind) && spot.properties.includes(change.property)),
  );
}
