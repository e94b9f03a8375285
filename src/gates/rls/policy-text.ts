/**
 * Reading policy expressions as PostgreSQL prints them (`pg_get_expr`): which
 * request-claim calls are not wrapped in an uncorrelated `(select ...)` (so they run once
 * per row instead of once per statement), and a normal form for comparing two versions.
 */

/** Calls whose result is the same for every row of a statement. */
const CLAIM_CALL = /\b(auth\.(?:uid|jwt|role|email)\s*\(\s*\)|current_setting\s*\()/gi;

/** Drops redundant outer parentheses: "((true))" -> "true". */
function unwrap(expression: string): string {
  let text = expression.trim();
  while (text.startsWith('(') && text.endsWith(')') && closingParen(text, 0) === text.length - 1) text = text.slice(1, -1).trim();
  return text;
}

/** Index of the parenthesis closing the one at `open` (quotes respected), or -1. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i += 1) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth += 1;
    else if (ch === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Start offsets of the parenthesised groups enclosing `position`, innermost first. */
function enclosingGroups(text: string, position: number): number[] {
  const stack: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < position; i += 1) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') stack.push(i);
    else if (ch === ')') stack.pop();
  }
  return stack.reverse();
}

/**
 * The claim calls in `expression` that PostgreSQL evaluates per row: those not inside a
 * `(SELECT ...)` group that reads no table (an uncorrelated sub-select becomes an
 * InitPlan, computed once per statement).
 */
export function unwrappedClaimCalls(expression: string | null | undefined): string[] {
  if (!expression) return [];
  const found: string[] = [];
  for (const match of expression.matchAll(CLAIM_CALL)) {
    const groups = enclosingGroups(expression, match.index);
    const wrapped = groups.some((open) => {
      const close = closingParen(expression, open);
      const body = expression.slice(open + 1, close === -1 ? undefined : close);
      return /^\s*select\b/i.test(body) && !/\bfrom\b/i.test(body);
    });
    if (!wrapped) {
      const call = (match[1] ?? '').replace(/\s+/g, '');
      found.push(call.endsWith('(') ? `${call}...)` : call);
    }
  }
  return [...new Set(found)];
}

/** The policy's expression normalised for comparing two versions (PR diff). */
export function normaliseExpression(expression: string | null | undefined): string {
  return expression ? unwrap(expression).replace(/\s+/g, ' ') : '';
}
