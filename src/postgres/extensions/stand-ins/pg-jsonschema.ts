/**
 * pg_jsonschema stand-in: pg_jsonschema 0.3.3's four functions, with JSON Schema validation
 * written here in PL/pgSQL (pg_jsonschema itself wraps a Rust validator), so CHECK constraints
 * such as `check (extensions.jsonb_matches_schema('{...}', metadata))` accept and reject seed
 * rows as they would on Supabase for the schemas projects write:
 *
 *   json_matches_schema(schema json, instance json) -> boolean
 *   jsonb_matches_schema(schema json, instance jsonb) -> boolean
 *   jsonschema_is_valid(schema json) -> boolean
 *   jsonschema_validation_errors(schema json, instance json) -> text[]
 *
 * The subset implemented (JSON Schema draft 4 to 2020-12 keywords, as the drafts agree):
 *   - boolean schemas (true / false)
 *   - type (one name or an array; "integer" accepts numbers without a fractional part), enum, const
 *   - numbers: minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers, or draft 4's
 *     booleans), multipleOf
 *   - strings: minLength, maxLength (in characters), pattern (PostgreSQL's regular expressions,
 *     which agree with ECMAScript's for the usual patterns)
 *   - arrays: items (one schema, or draft 4-7's array of schemas with additionalItems),
 *     prefixItems, minItems, maxItems, uniqueItems, contains
 *   - objects: properties, required, additionalProperties (false or a schema), patternProperties,
 *     minProperties, maxProperties, propertyNames, dependentRequired
 *   - allOf, anyOf, oneOf, not, if / then / else
 *   - $ref to a JSON pointer inside the same schema ("#", "#/definitions/...", "#/$defs/...")
 * Not implemented: format (treated as an annotation, which is also what the drafts since 2019-09
 * say by default), remote and $id-based $ref, $dynamicRef, unevaluatedProperties/Items,
 * dependentSchemas, content* keywords. Unknown keywords are ignored, as validators do.
 *
 * Error texts follow the Rust jsonschema crate's wording ("... is not of type ...", "... is a
 * required property", ...), one entry per failed keyword. A schema that is not a JSON Schema
 * (for example "type": 5) makes jsonschema_is_valid false and the matching functions raise.
 *
 * The helpers are qualified with the extension's schema, so the functions work under any
 * search_path (a pg_dump restore runs check constraints with an empty one).
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PG_JSONSCHEMA: StandIn = {
  name: 'pg_jsonschema',
  defaultVersion: '0.3.3',
  olderVersions: ['0.3.1', '0.2.0', '0.1.4'],
  relocatable: false,
  comment: 'pg_jsonschema',
  limits:
    'Validates in PL/pgSQL a subset of JSON Schema (type, enum, const, numeric and length bounds, pattern, items, required, properties, additionalProperties, combinators, local $ref), ignoring format, remote $ref and unevaluated* keywords.',
  sql: readSqlAsset(new URL('./pg-jsonschema.sql', import.meta.url)),
};
