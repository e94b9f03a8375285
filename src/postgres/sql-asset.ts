/**
 * The SQL postgate ships (the Supabase baseline, the extension stand-ins) lives in `.sql` files
 * next to the module that uses it, read once when that module loads.
 */
import { readFileSync } from 'node:fs';

/**
 * The text of a `.sql` file shipped with postgate. Always call it as
 * `readSqlAsset(new URL('./name.sql', import.meta.url))`, with the file name written out: that
 * finds the file next to the calling module when the TypeScript sources run, and in the bundle
 * ncc (webpack) sees the same expression, copies the file into dist/postgate and points the URL
 * at the copy. A name computed at run time would not be copied.
 */
export function readSqlAsset(url: URL): string {
  return readFileSync(url, 'utf8');
}
