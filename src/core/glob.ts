/**
 * Repository globs as regular expressions, for paths relative to the repository root with forward
 * slashes. Written here rather than using `path.matchesGlob` (experimental before Node 22.5/24,
 * and the bundle runs on Node 22.0 too). The forms, as in .gitignore and most tools:
 *   `*` any characters but `/`; `?` one character but `/`; `**` any number of whole directories
 *   (`src/**` also matches `src` itself); `{a,b}` either; `[abc]`, `[a-z]`, `[!abc]` one character;
 *   a pattern without `/` matches at any depth (`*.min.js` is `**` + `/*.min.js`); a leading `./`
 *   or `/` is ignored.
 */

/** Compiles a glob; throws an Error naming what is wrong (unclosed `{` or `[`). */
export function globToRegExp(glob: string): RegExp {
  let pattern = glob.replace(/^\.?\/+/, '');
  if (!pattern.includes('/')) pattern = `**/${pattern}`;
  return new RegExp(`^${translate(pattern)}$`);
}

/** Whether a text is a glob this module accepts (for config validation). */
export function isValidGlob(glob: string): boolean {
  try {
    globToRegExp(glob);
    return true;
  } catch {
    return false;
  }
}

function translate(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    const atSegmentStart = i === 0 || pattern[i - 1] === '/';
    if (char === '*' && pattern[i + 1] === '*' && atSegmentStart && (i + 2 === pattern.length || pattern[i + 2] === '/')) {
      // `**/` matches zero or more directories; a trailing `/**` (or a lone `**`) also matches the directory itself
      if (i + 2 === pattern.length) {
        out = out.endsWith('/') ? `${out.slice(0, -1)}(?:/.*)?` : `${out}.*`;
        i += 1;
      } else {
        out += '(?:[^/]*/)*';
        i += 2;
      }
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) throw new Error(`unclosed \`[\` in ${glob(pattern)}`);
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else if (char === '{') {
      const close = matchingBrace(pattern, i);
      if (close < 0) throw new Error(`unclosed \`{\` in ${glob(pattern)}`);
      out += `(?:${splitTopLevel(pattern.slice(i + 1, close))
        .map(translate)
        .join('|')})`;
      i = close;
    } else out += char.replace(/[.+^$()|\\\]}]/g, '\\$&');
  }
  return out;
}

function glob(pattern: string): string {
  return JSON.stringify(pattern);
}

function matchingBrace(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i += 1) {
    if (pattern[i] === '{') depth += 1;
    else if (pattern[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i += 1) {
    if (body[i] === '{') depth += 1;
    else if (body[i] === '}') depth -= 1;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}
