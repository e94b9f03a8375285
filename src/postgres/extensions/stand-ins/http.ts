/**
 * http (pgsql-http) stand-in: the SQL interface of pgsql-http 1.6, the version Supabase ships,
 * written from its documented interface (README and the 1.6 install script, read for names and
 * signatures only):
 *
 *   domains   http_method (text), content_type (text matching type/subtype)
 *   types     http_header (field, value), http_request (method, uri, headers, content_type,
 *             content), http_response (status, content_type, headers, content)
 *   http(http_request) and the verb helpers http_get(uri) / http_get(uri, data jsonb),
 *   http_post(uri, content, content_type) / http_post(uri, data jsonb), http_put, http_patch,
 *   http_delete(uri) / http_delete(uri, content, content_type), http_head(uri)
 *   urlencode(varchar | bytea | jsonb), http_header(field, value), text_to_bytea, bytea_to_text
 *   http_set_curlopt(curlopt, value), http_reset_curlopt(), http_list_curlopt()
 *
 * The shadow database never sends HTTP: every request function raises 0A000 with one sentence
 * that says so (the verb helpers go through http(), as in pgsql-http). The URI is not repeated
 * in the message: it may carry a token. What works, because it never touches the network:
 * urlencode (same output as the README's examples: unreserved characters kept, space as '+',
 * everything else %XX of its UTF-8 bytes; a jsonb object becomes key=value pairs joined by '&' in
 * jsonb's key order), http_header, text_to_bytea / bytea_to_text, and the curl option calls,
 * which keep the options in a session setting that http_list_curlopt reads back.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const HTTP: StandIn = {
  name: 'http',
  defaultVersion: '1.6',
  olderVersions: ['1.5', '1.4', '1.3'],
  relocatable: false,
  comment: 'HTTP client for PostgreSQL, allows web page retrieval inside the database.',
  limits:
    'Never sends HTTP: http() and the http_get/post/put/patch/delete/head helpers raise an error; urlencode, http_header and the curl option settings work.',
  sql: readSqlAsset(new URL('./http.sql', import.meta.url)),
};
