/**
 * The stand-in for pgvector (`create extension vector`), written from pgvector's documented
 * behaviour and SQL interface; no C, so everything is built from PostgreSQL's own pieces:
 *
 * - `vector`, `halfvec` and `sparsevec` are varlena types whose I/O functions are the builtins
 *   of `text` (`textin`, `textout`, `textrecv`, `textsend`): a value is stored as its text,
 *   `[1,2,3]` or `{1:1,3:2}/5`. The type modifier goes through `bittypmodin`, which keeps the
 *   plain number, as pgvector does, so `atttypmod` is the dimension count and `format_type`
 *   prints `vector(1536)` (there is no typmod output function, as in pgvector).
 * - Values are checked and put in pgvector's canonical form (floats rounded to `real`, halfvec
 *   to half precision, sparsevec sorted without zeros) by the length-coercion casts, which
 *   PostgreSQL applies wherever a dimension is declared: `insert` into a `vector(3)` column,
 *   `'[1,2,3]'::vector(3)`, function arguments declared `vector(3)` are not (as in pgvector).
 *   The input functions cannot check anything (they are `textin`).
 * - Every function computes its real result in SQL or PL/pgSQL over the text (parsed into
 *   `double precision[]` through `real`). Bodies call only `pg_catalog` functions and never
 *   one of this extension's own (the extension is relocatable and bodies run with the
 *   caller's search_path); a result of one of these types is returned as text and converted
 *   by PL/pgSQL through the type's input function.
 * - `hnsw` and `ivfflat` are index access methods whose handler is the builtin hash index
 *   (`hashhandler`): every one of pgvector's operator classes exists, by name, as a hash
 *   operator class whose only member is `hashvarlena`. A hash index stores 4 bytes per row
 *   whatever the vector's size, so `create index ... using hnsw (embedding vector_cosine_ops)`
 *   builds on a table of 1536-dimension embeddings, and having no operators it never serves a
 *   query: `order by embedding <=> $1` scans and sorts, exactly. (A BRIN-based stand-in stores
 *   the values themselves and fails with "index row size ... exceeds maximum" on such tables.)
 *   Their options (`with (m = 16)`) are taken out before the statement runs and stored
 *   afterwards, see ../index-options.ts.
 */
import type { StandIn } from '../types.ts';

type Dense = 'vector' | 'halfvec';
type VecType = Dense | 'sparsevec';

const MAX_DIM = 16000;
const MAX_SPARSE_DIM = 1000000000;
const MAX_NNZ = 16000;
/** Doubles at or above this magnitude round to infinity as `real` (FLT_MAX plus half an ulp). */
const REAL_OVERFLOW = '3.4028235677973366e38';
/** Non-zero doubles at or below this magnitude round to zero as `real` (half the smallest subnormal). */
const REAL_UNDERFLOW = '7.006492321624086e-46';
const HALF_MAX = 65504;

/** A float literal as strtof reads one (no NaN or infinities: they are reported separately). */
const NUM = '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?';
const SP = '[[:space:]]*';

// ---------------------------------------------------------------------------------------------
// Fragments of function bodies. `arg` is a parameter reference ($1, $2) of the named type.

/** A vector or halfvec argument as double precision[], through real as pgvector stores it. */
function dense(arg: string): string {
  return `pg_catalog.translate(${arg}::pg_catalog.text, '[]', '{}')::real[]::double precision[]`;
}

/** A sparsevec argument's non-zero entries, as a FROM item with columns i (1-based index) and v. */
function pairs(arg: string): string {
  return `(select pg_catalog.split_part(p, ':', 1)::integer as i, pg_catalog.split_part(p, ':', 2)::real::double precision as v
      from pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.btrim(pg_catalog.split_part(${arg}::pg_catalog.text, '/', 1), '{} '), ',')) as p)`;
}

/** A sparsevec argument's dimension count. */
function sparseDim(arg: string): string {
  return `pg_catalog.split_part(${arg}::pg_catalog.text, '/', 2)::integer`;
}

/** double precision[] -> the text of a vector (elements rounded to real; overflow raises as pgvector does). */
function vectorText(arr: string): string {
  return `'[' || pg_catalog.array_to_string((${arr})::real[], ',') || ']'`;
}

/** double precision[] rounded to half precision (round half to even, subnormals below 2^-14). */
function halfRound(arr: string): string {
  return `(select pg_catalog.array_agg(case when u.x = 0 then u.x else pg_catalog.sign(u.x) * pg_catalog.round(pg_catalog.abs(u.x) / s.ulp) * s.ulp end order by u.n)
      from pg_catalog.unnest(${arr}) with ordinality as u(x, n),
      lateral (select pg_catalog.power(2::double precision, greatest(e.e, -14) - 10) as ulp
                 from (select f.f - (pg_catalog.power(2::double precision, f.f) > pg_catalog.abs(u.x))::integer
                                  + (pg_catalog.power(2::double precision, f.f + 1) <= pg_catalog.abs(u.x))::integer as e
                         from (select pg_catalog.floor(pg_catalog.ln(pg_catalog.abs(u.x) + (u.x = 0)::integer) / 0.6931471805599453) as f) as f) as e) as s)`;
}

function raise(code: string, message: string, ...args: string[]): string {
  const text = args.length ? `pg_catalog.format('${message}', ${args.join(', ')})` : `'${message}'`;
  return `raise exception using errcode = '${code}', message = ${text};`;
}

const card = (a: string): string => `pg_catalog.cardinality(${a})`;

function sameDims(type: VecType, a: string, b: string): string {
  return `if ${a} <> ${b} then
    ${raise('data_exception', `different ${type} dimensions %s and %s`, a, b)}
  end if;`;
}

function checkTypmod(typmod: string, dims: string): string {
  return `if ${typmod} > 0 and ${dims} <> ${typmod} then
    ${raise('data_exception', 'expected %s dimensions, not %s', typmod, dims)}
  end if;`;
}

function checkMaxDims(type: Dense, dims: string): string {
  return `if ${dims} > ${MAX_DIM} then
    ${raise('program_limit_exceeded', `${type} cannot have more than ${MAX_DIM} dimensions`)}
  end if;`;
}

/** `_h := half-rounded _v`, failing when a value does not fit in half precision. */
function toHalf(from: string, message: (bad: string) => string): string {
  return `_h := ${halfRound(from)};
  select x into _bad from pg_catalog.unnest(${from}) with ordinality as u(x, n) where pg_catalog.abs((_h)[n]) > ${HALF_MAX} limit 1;
  if found then
    ${message('_bad')}
  end if;`;
}

const overflow = (): string => raise('numeric_value_out_of_range', 'value out of range: overflow');

/** The text a function returns for a double precision[] of the given dense type (declares _h, _bad for halfvec). */
function denseResult(type: Dense, arr: string): string {
  if (type === 'vector') return `return ${vectorText(arr)};`;
  return `${toHalf(arr, () => overflow())}
  return ${vectorText('_h')};`;
}

const HALF_VARS = '_h double precision[];\n  _bad double precision;';

function sqlFunction(header: string, body: string): string {
  return `create function ${header}
language sql immutable strict parallel safe as $fn$
${body}
$fn$;`;
}

function plpgsqlFunction(header: string, declare: string, body: string): string {
  return `create function ${header}
language plpgsql immutable strict parallel safe as $fn$
${declare ? `declare\n  ${declare}\n` : ''}begin
  ${body}
end
$fn$;`;
}

// ---------------------------------------------------------------------------------------------
// Types

function typeSql(type: VecType): string {
  return `create function ${type}_in(cstring, oid, integer) returns ${type} language internal immutable strict parallel safe as 'textin';
create function ${type}_out(${type}) returns cstring language internal immutable strict parallel safe as 'textout';
create function ${type}_typmod_in(cstring[]) returns integer language internal immutable strict parallel safe as 'bittypmodin';
create function ${type}_recv(internal, oid, integer) returns ${type} language internal immutable strict parallel safe as 'textrecv';
create function ${type}_send(${type}) returns bytea language internal immutable strict parallel safe as 'textsend';
create type ${type} (
  input = ${type}_in,
  output = ${type}_out,
  typmod_in = ${type}_typmod_in,
  receive = ${type}_recv,
  send = ${type}_send,
  storage = external
);`;
}

// ---------------------------------------------------------------------------------------------
// The length-coercion casts: where values are checked and made canonical.

/** Checks the text of a vector or halfvec ($1) and leaves its elements in _v (double precision[]). */
function parseDenseChecked(type: Dense): string {
  const invalid = raise('invalid_text_representation', `invalid input syntax for type ${type}: "%s"`, '$1::pg_catalog.text');
  return `_s := pg_catalog.regexp_replace($1::pg_catalog.text, '^[[:space:]]+|[[:space:]]+$', '', 'g');
  if pg_catalog.length(_s) < 2 or pg_catalog.left(_s, 1) <> '[' or pg_catalog.right(_s, 1) <> ']' then
    ${invalid}
  end if;
  _s := pg_catalog.substr(_s, 2, pg_catalog.length(_s) - 2);
  if _s !~ '^${SP}${NUM}(${SP},${SP}${NUM})*${SP}$' then
    if _s ~ '^${SP}$' then
      ${raise('data_exception', `${type} must have at least 1 dimension`)}
    elsif _s ~* '(^|,)${SP}[+-]?nan${SP}(,|$)' then
      ${raise('data_exception', `NaN not allowed in ${type}`)}
    elsif _s ~* '(^|,)${SP}[+-]?inf(inity)?${SP}(,|$)' then
      ${raise('data_exception', `infinite value not allowed in ${type}`)}
    end if;
    ${invalid}
  end if;
  _v := pg_catalog.string_to_array(_s, ',')::double precision[];
  ${checkMaxDims(type, card('_v'))}
  select pg_catalog.btrim(e, ' ') into _token from pg_catalog.unnest(pg_catalog.string_to_array(_s, ',')) as e
   where pg_catalog.abs(e::double precision) >= ${REAL_OVERFLOW} or (e::double precision <> 0 and pg_catalog.abs(e::double precision) <= ${REAL_UNDERFLOW}) limit 1;
  if found then
    ${raise('numeric_value_out_of_range', `"%s" is out of range for type ${type}`, '_token')}
  end if;
  _v := _v::real[]::double precision[];`;
}

function lengthCast(type: Dense): string {
  const result =
    type === 'vector'
      ? `return ${vectorText('_v')};`
      : `${toHalf('_v', (bad) => raise('numeric_value_out_of_range', `"%s" is out of range for type halfvec`, `(select pg_catalog.btrim(e, ' ') from pg_catalog.unnest(pg_catalog.string_to_array(_s, ',')) with ordinality as t(e, n) where e::double precision = ${bad} limit 1)`))}
  return ${vectorText('_h')};`;
  return plpgsqlFunction(
    `${type}(${type}, integer, boolean) returns ${type}`,
    `_s pg_catalog.text;\n  _token pg_catalog.text;\n  _v double precision[];\n  ${HALF_VARS}`,
    `${parseDenseChecked(type)}
  ${checkTypmod('$2', card('_v'))}
  ${result}`,
  );
}

function sparseLengthCast(): string {
  const invalid = raise('invalid_text_representation', 'invalid input syntax for type sparsevec: "%s"', '$1::pg_catalog.text');
  const pair = `${SP}[+-]?[0-9]+${SP}:${SP}${NUM}${SP}`;
  return plpgsqlFunction(
    'sparsevec(sparsevec, integer, boolean) returns sparsevec',
    `_s pg_catalog.text;\n  _dim bigint;\n  _bad pg_catalog.text;\n  _count bigint;\n  _distinct bigint;\n  _lo bigint;\n  _hi bigint;`,
    `_s := pg_catalog.regexp_replace($1::pg_catalog.text, '^[[:space:]]+|[[:space:]]+$', '', 'g');
  if _s !~ '^[{][^{}]*[}]${SP}/${SP}[+-]?[0-9]{1,18}$' then
    ${invalid}
  end if;
  _dim := pg_catalog.substring(_s, '/${SP}([+-]?[0-9]+)$')::bigint;
  if _dim < 1 then
    ${raise('data_exception', 'sparsevec must have at least 1 dimension')}
  elsif _dim > ${MAX_SPARSE_DIM} then
    ${raise('program_limit_exceeded', `sparsevec cannot have more than ${MAX_SPARSE_DIM} dimensions`)}
  end if;
  _s := pg_catalog.substring(_s, '^[{]([^{}]*)[}]');
  if _s ~ '^${SP}$' then
    _s := '';
  elsif _s !~ '^${pair}(,${pair})*$' then
    if _s ~* ':${SP}[+-]?nan${SP}(,|$)' then
      ${raise('data_exception', 'NaN not allowed in sparsevec')}
    elsif _s ~* ':${SP}[+-]?inf(inity)?${SP}(,|$)' then
      ${raise('data_exception', 'infinite value not allowed in sparsevec')}
    end if;
    ${invalid}
  end if;
  select pg_catalog.count(*), pg_catalog.count(distinct e.i), pg_catalog.min(e.i), pg_catalog.max(e.i)
    into _count, _distinct, _lo, _hi
    from (select pg_catalog.split_part(p, ':', 1)::numeric as i from pg_catalog.unnest(pg_catalog.string_to_array(_s, ',')) as p) as e;
  if _count > ${MAX_NNZ} then
    ${raise('program_limit_exceeded', `sparsevec cannot have more than ${MAX_NNZ} non-zero elements`)}
  elsif _count > _distinct then
    ${raise('data_exception', 'sparsevec indices must not contain duplicates')}
  elsif _lo < 1 or _hi > _dim then
    ${raise('data_exception', 'sparsevec index out of bounds')}
  end if;
  select pg_catalog.split_part(p, ':', 2) into _bad from pg_catalog.unnest(pg_catalog.string_to_array(_s, ',')) as p
   where pg_catalog.abs(pg_catalog.split_part(p, ':', 2)::double precision) >= ${REAL_OVERFLOW}
      or (pg_catalog.split_part(p, ':', 2)::double precision <> 0 and pg_catalog.abs(pg_catalog.split_part(p, ':', 2)::double precision) <= ${REAL_UNDERFLOW})
   limit 1;
  if found then
    ${raise('numeric_value_out_of_range', '"%s" is out of range for type sparsevec', 'pg_catalog.btrim(_bad)')}
  end if;
  ${checkTypmod('$2', '_dim')}
  return '{' || coalesce((select pg_catalog.string_agg(e.i || ':' || e.v, ',' order by e.i)
      from (select pg_catalog.split_part(p, ':', 1)::integer as i, pg_catalog.split_part(p, ':', 2)::real as v
              from pg_catalog.unnest(pg_catalog.string_to_array(_s, ',')) as p) as e where e.v <> 0), '') || '}/' || _dim;`,
  );
}

// ---------------------------------------------------------------------------------------------
// Functions of the dense types

/** Declares _a and _b (the two arguments as double precision[]) and checks they have the same dimensions. */
function twoDense(type: Dense): { declare: string; check: string } {
  return {
    declare: `_a double precision[] := ${dense('$1')};\n  _b double precision[] := ${dense('$2')};`,
    check: sameDims(type, card('_a'), card('_b')),
  };
}

const ZIP = 'rows from (pg_catalog.unnest(_a), pg_catalog.unnest(_b)) with ordinality as u(x, y, n)';

function denseDistance(type: Dense, name: string, body: string, extraDeclare = ''): string {
  const { declare, check } = twoDense(type);
  return plpgsqlFunction(`${name}(${type}, ${type}) returns double precision`, `${declare}${extraDeclare}`, `${check}\n  ${body}`);
}

function cosineBody(clampOnly: boolean): string {
  // pgvector: similarity = dot / sqrt(|a|^2 |b|^2), clamped to [-1, 1]; a zero vector gives NaN.
  if (clampOnly) {
    return `select pg_catalog.sum(x * y) into _dot from ${ZIP};
  return pg_catalog.acos(greatest(-1::double precision, least(1::double precision, _dot))) / pg_catalog.pi();`;
  }
  return `select pg_catalog.sum(x * y), pg_catalog.sum(x * x), pg_catalog.sum(y * y) into _dot, _na, _nb from ${ZIP};
  if _na = 0 or _nb = 0 then
    return 'NaN'::double precision;
  end if;
  return 1 - greatest(-1::double precision, least(1::double precision, _dot / pg_catalog.sqrt(_na * _nb)));`;
}

function denseArithmetic(type: Dense, name: string, op: string): string {
  const { declare, check } = twoDense(type);
  return plpgsqlFunction(
    `${name}(${type}, ${type}) returns ${type}`,
    `${declare}\n  ${HALF_VARS}`,
    `${check}
  ${denseResult(type, `(select pg_catalog.array_agg(x ${op} y order by n) from ${ZIP})`)}`,
  );
}

/** The comparison pgvector's btree operators use: element by element, then the shorter first. */
function denseCmp(): string {
  return `with a as (select ${dense('$1')} as v), b as (select ${dense('$2')} as v)
select coalesce(
  (select case when u.x < u.y then -1 else 1 end
     from a, b, rows from (pg_catalog.unnest(a.v), pg_catalog.unnest(b.v)) with ordinality as u(x, y, n)
    where u.x <> u.y order by u.n limit 1),
  (select case when ${card('a.v')} < ${card('b.v')} then -1 when ${card('a.v')} > ${card('b.v')} then 1 else 0 end from a, b))`;
}

function sparseCmp(): string {
  return `with d as (select ${sparseDim('$1')} as a, ${sparseDim('$2')} as b)
select coalesce(
  (select case when coalesce(a.v, 0) < coalesce(b.v, 0) then -1 else 1 end
     from ${pairs('$1')} as a full join ${pairs('$2')} as b on a.i = b.i, d
    where coalesce(a.i, b.i) <= least(d.a, d.b) and coalesce(a.v, 0) <> coalesce(b.v, 0)
    order by coalesce(a.i, b.i) limit 1),
  (select case when d.a < d.b then -1 when d.a > d.b then 1 else 0 end from d))`;
}

const COMPARISONS: readonly [string, string, string, string, string, string][] = [
  // name, operator, test on cmp, commutator, negator, restrict/join estimator
  ['lt', '<', '< 0', '>', '>=', 'scalarlt'],
  ['le', '<=', '<= 0', '>=', '>', 'scalarle'],
  ['eq', '=', '= 0', '=', '<>', 'eq'],
  ['ne', '<>', '<> 0', '<>', '=', 'eq'],
  ['ge', '>=', '>= 0', '<=', '<', 'scalarge'],
  ['gt', '>', '> 0', '<', '<=', 'scalargt'],
];

function comparisonSql(type: VecType): string {
  const cmp = type === 'sparsevec' ? sparseCmp() : denseCmp();
  const functions = [
    sqlFunction(`${type}_cmp(${type}, ${type}) returns integer`, cmp),
    ...COMPARISONS.map(([name, , test]) => sqlFunction(`${type}_${name}(${type}, ${type}) returns boolean`, `select (${cmp}) ${test}`)),
  ];
  const operators = COMPARISONS.map(
    ([name, op, , commutator, negator, estimator]) => `create operator ${op} (
  leftarg = ${type}, rightarg = ${type}, function = ${type}_${name},
  commutator = ${commutator}, negator = ${negator},
  restrict = ${estimator}sel, join = ${estimator}joinsel
);`,
  );
  const opclass = `create operator class ${type}_ops
  default for type ${type} using btree as
  operator 1 <, operator 2 <=, operator 3 =, operator 4 >=, operator 5 >,
  function 1 ${type}_cmp(${type}, ${type});`;
  return [...functions, ...operators, opclass].join('\n\n');
}

/** Functions on vector and halfvec. `prefix` names the private functions (vector_add, halfvec_add). */
function denseFunctionsSql(type: Dense): string {
  const norm = type === 'vector' ? 'vector_norm' : 'l2_norm';
  const out: string[] = [
    denseDistance(type, 'l2_distance', `return pg_catalog.sqrt((select pg_catalog.sum((x - y) * (x - y)) from ${ZIP}));`),
    denseDistance(type, `${type}_l2_squared_distance`, `return (select pg_catalog.sum((x - y) * (x - y)) from ${ZIP});`),
    denseDistance(type, 'inner_product', `return (select pg_catalog.sum(x * y) from ${ZIP});`),
    denseDistance(type, `${type}_negative_inner_product`, `return (select -pg_catalog.sum(x * y) from ${ZIP});`),
    denseDistance(type, 'cosine_distance', cosineBody(false), '\n  _dot double precision;\n  _na double precision;\n  _nb double precision;'),
    denseDistance(type, `${type}_spherical_distance`, cosineBody(true), '\n  _dot double precision;'),
    denseDistance(type, 'l1_distance', `return (select pg_catalog.sum(pg_catalog.abs(x - y)) from ${ZIP});`),
    sqlFunction(`vector_dims(${type}) returns integer`, `select ${card(`pg_catalog.string_to_array($1::pg_catalog.text, ',')`)}`),
    sqlFunction(`${norm}(${type}) returns double precision`, `select pg_catalog.sqrt(pg_catalog.sum(x * x)) from pg_catalog.unnest(${dense('$1')}) as x`),
    plpgsqlFunction(
      `l2_normalize(${type}) returns ${type}`,
      `_v double precision[] := ${dense('$1')};\n  _norm double precision;\n  ${HALF_VARS}`,
      `_norm := (select pg_catalog.sqrt(pg_catalog.sum(x * x)) from pg_catalog.unnest(_v) as x);
  ${denseResult(type, `(select pg_catalog.array_agg(case when _norm > 0 then x / _norm else 0 end order by n) from pg_catalog.unnest(_v) with ordinality as u(x, n))`)}`,
    ),
    plpgsqlFunction(
      `binary_quantize(${type}) returns bit`,
      '',
      `return (select pg_catalog.string_agg(case when x > 0 then '1' else '0' end, '' order by n) from pg_catalog.unnest(${dense('$1')}) with ordinality as u(x, n));`,
    ),
    plpgsqlFunction(
      `subvector(${type}, integer, integer) returns ${type}`,
      `_v double precision[] := ${dense('$1')};\n  _start bigint := $2;\n  _end bigint;\n  ${HALF_VARS}`,
      // like substring(): a start before 1 shortens the result; an empty result is an error
      `if $3 < 1 then
    ${raise('data_exception', `${type} must have at least 1 dimension`)}
  end if;
  _end := least(_start + $3, ${card('_v')} + 1);
  _start := greatest(_start, 1);
  if _end - _start < 1 then
    ${raise('data_exception', `${type} must have at least 1 dimension`)}
  end if;
  ${denseResult(type, `_v[_start:_end - 1]`)}`,
    ),
    denseArithmetic(type, `${type}_add`, '+'),
    denseArithmetic(type, `${type}_sub`, '-'),
    denseArithmetic(type, `${type}_mul`, '*'),
    plpgsqlFunction(
      `${type}_concat(${type}, ${type}) returns ${type}`,
      `_a double precision[] := ${dense('$1')};\n  _b double precision[] := ${dense('$2')};\n  ${HALF_VARS}`,
      `${checkMaxDims(type, `${card('_a')} + ${card('_b')}`)}
  ${denseResult(type, '_a || _b')}`,
    ),
    // avg: the state is {count, sum_1, ..., sum_n}, as in pgvector
    plpgsqlFunction(
      `${type}_accum(double precision[], ${type}) returns double precision[]`,
      `_v double precision[] := ${dense('$2')};`,
      `if $1[1] = 0 then
    return array[1::double precision] || _v;
  end if;
  ${checkTypmod(`${card('$1')} - 1`, card('_v'))}
  return array[$1[1] + 1] || (select pg_catalog.array_agg(x + y order by n) from rows from (pg_catalog.unnest($1[2:]), pg_catalog.unnest(_v)) with ordinality as u(x, y, n));`,
    ),
    plpgsqlFunction(
      `${type}_combine(double precision[], double precision[]) returns double precision[]`,
      '',
      `if $1[1] = 0 then
    return $2;
  elsif $2[1] = 0 then
    return $1;
  end if;
  ${checkTypmod(`${card('$1')} - 1`, `${card('$2')} - 1`)}
  return (select pg_catalog.array_agg(x + y order by n) from rows from (pg_catalog.unnest($1), pg_catalog.unnest($2)) with ordinality as u(x, y, n));`,
    ),
    plpgsqlFunction(
      `${type}_avg(double precision[]) returns ${type}`,
      HALF_VARS,
      `if $1[1] = 0 then
    return null;
  end if;
  ${denseResult(type, `(select pg_catalog.array_agg(x / $1[1] order by n) from pg_catalog.unnest($1[2:]) with ordinality as u(x, n))`)}`,
    ),
  ];
  return out.join('\n\n');
}

function denseAggregatesSql(type: Dense): string {
  return `create aggregate avg(${type}) (
  sfunc = ${type}_accum,
  stype = double precision[],
  finalfunc = ${type}_avg,
  combinefunc = ${type}_combine,
  initcond = '{0}',
  parallel = safe
);

create aggregate sum(${type}) (
  sfunc = ${type}_add,
  stype = ${type},
  combinefunc = ${type}_add,
  parallel = safe
);`;
}

function distanceOperators(type: VecType): string {
  const ops: [string, string][] = [
    ['<->', 'l2_distance'],
    ['<#>', `${type}_negative_inner_product`],
    ['<=>', 'cosine_distance'],
    ['<+>', 'l1_distance'],
  ];
  return ops.map(([op, fn]) => `create operator ${op} (\n  leftarg = ${type}, rightarg = ${type}, function = ${fn},\n  commutator = '${op}'\n);`).join('\n\n');
}

function arithmeticOperators(type: Dense): string {
  return `create operator + (
  leftarg = ${type}, rightarg = ${type}, function = ${type}_add,
  commutator = +
);

create operator - (
  leftarg = ${type}, rightarg = ${type}, function = ${type}_sub
);

create operator * (
  leftarg = ${type}, rightarg = ${type}, function = ${type}_mul,
  commutator = *
);

create operator || (
  leftarg = ${type}, rightarg = ${type}, function = ${type}_concat
);`;
}

// ---------------------------------------------------------------------------------------------
// sparsevec functions

function sparseDistance(name: string, body: string, declare = ''): string {
  return plpgsqlFunction(
    `${name}(sparsevec, sparsevec) returns double precision`,
    `_da integer := ${sparseDim('$1')};\n  _db integer := ${sparseDim('$2')};${declare}`,
    `${sameDims('sparsevec', '_da', '_db')}
  ${body}`,
  );
}

const FULL = `${pairs('$1')} as a full join ${pairs('$2')} as b on a.i = b.i`;
const INNER = `${pairs('$1')} as a join ${pairs('$2')} as b on a.i = b.i`;

function sparseFunctionsSql(): string {
  return [
    sparseDistance(
      'l2_distance',
      `return pg_catalog.sqrt(coalesce((select pg_catalog.sum((coalesce(a.v, 0) - coalesce(b.v, 0)) * (coalesce(a.v, 0) - coalesce(b.v, 0))) from ${FULL}), 0));`,
    ),
    sparseDistance(
      'sparsevec_l2_squared_distance',
      `return coalesce((select pg_catalog.sum((coalesce(a.v, 0) - coalesce(b.v, 0)) * (coalesce(a.v, 0) - coalesce(b.v, 0))) from ${FULL}), 0);`,
    ),
    sparseDistance('inner_product', `return coalesce((select pg_catalog.sum(a.v * b.v) from ${INNER}), 0);`),
    sparseDistance('sparsevec_negative_inner_product', `return -coalesce((select pg_catalog.sum(a.v * b.v) from ${INNER}), 0);`),
    sparseDistance(
      'cosine_distance',
      `_dot := coalesce((select pg_catalog.sum(a.v * b.v) from ${INNER}), 0);
  _na := coalesce((select pg_catalog.sum(a.v * a.v) from ${pairs('$1')} as a), 0);
  _nb := coalesce((select pg_catalog.sum(b.v * b.v) from ${pairs('$2')} as b), 0);
  if _na = 0 or _nb = 0 then
    return 'NaN'::double precision;
  end if;
  return 1 - greatest(-1::double precision, least(1::double precision, _dot / pg_catalog.sqrt(_na * _nb)));`,
      '\n  _dot double precision;\n  _na double precision;\n  _nb double precision;',
    ),
    sparseDistance('l1_distance', `return coalesce((select pg_catalog.sum(pg_catalog.abs(coalesce(a.v, 0) - coalesce(b.v, 0))) from ${FULL}), 0);`),
    sqlFunction('l2_norm(sparsevec) returns double precision', `select pg_catalog.sqrt(coalesce(pg_catalog.sum(a.v * a.v), 0)) from ${pairs('$1')} as a`),
    plpgsqlFunction(
      'l2_normalize(sparsevec) returns sparsevec',
      `_norm double precision;`,
      `_norm := (select pg_catalog.sqrt(coalesce(pg_catalog.sum(a.v * a.v), 0)) from ${pairs('$1')} as a);
  return '{' || coalesce((select pg_catalog.string_agg(a.i || ':' || (a.v / _norm)::real, ',' order by a.i)
      from ${pairs('$1')} as a where _norm > 0 and (a.v / _norm)::real <> 0), '') || '}/' || ${sparseDim('$1')};`,
    ),
  ].join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// Casts between the types and from arrays

/** The text of a sparsevec from a double precision[] of all its elements. */
function sparseFromDense(arr: string): string {
  return `'{' || coalesce((select pg_catalog.string_agg(n || ':' || x::real, ',' order by n)
      from pg_catalog.unnest(${arr}) with ordinality as u(x, n) where x::real <> 0), '') || '}/' || ${card(arr)}`;
}

/** Checks an array argument ($1) as pgvector does and leaves it in _v (double precision[]). */
function arrayChecked(type: VecType): string {
  return `if ${card('$1')} = 0 then
    ${raise('data_exception', `${type} must have at least 1 dimension`)}
  elsif pg_catalog.array_ndims($1) <> 1 then
    ${raise('data_exception', 'array must be 1-D')}
  elsif pg_catalog.array_position($1, null) is not null then
    ${raise('null_value_not_allowed', 'array must not contain nulls')}
  end if;
  _v := $1::double precision[];
  if exists (select from pg_catalog.unnest(_v) as x where x = 'NaN'::double precision) then
    ${raise('data_exception', `NaN not allowed in ${type}`)}
  elsif exists (select from pg_catalog.unnest(_v) as x where x in ('Infinity'::double precision, '-Infinity'::double precision)) then
    ${raise('data_exception', `infinite value not allowed in ${type}`)}
  end if;`;
}

const ARRAY_TYPES = ['integer', 'real', 'double precision', 'numeric'] as const;

function castFunctionsSql(): string {
  const out: string[] = [];
  for (const type of ['vector', 'halfvec'] as const) {
    for (const from of ARRAY_TYPES) {
      out.push(
        plpgsqlFunction(
          `array_to_${type}(${from}[], integer, boolean) returns ${type}`,
          `_v double precision[];\n  ${HALF_VARS}`,
          `${arrayChecked(type)}
  ${checkMaxDims(type, card('_v'))}
  ${checkTypmod('$2', card('_v'))}
  ${denseResult(type, '_v')}`,
        ),
      );
    }
    out.push(
      sqlFunction(`${type}_to_float4(${type}, integer, boolean) returns real[]`, `select pg_catalog.translate($1::pg_catalog.text, '[]', '{}')::real[]`),
    );
  }
  for (const from of ARRAY_TYPES) {
    out.push(
      plpgsqlFunction(
        `array_to_sparsevec(${from}[], integer, boolean) returns sparsevec`,
        '_v double precision[];',
        `${arrayChecked('sparsevec')}
  ${checkTypmod('$2', card('_v'))}
  return ${sparseFromDense('_v')};`,
      ),
    );
  }
  // between the dense types
  out.push(
    plpgsqlFunction(
      'halfvec_to_vector(halfvec, integer, boolean) returns vector',
      `_v double precision[] := ${dense('$1')};`,
      `${checkTypmod('$2', card('_v'))}
  return ${vectorText('_v')};`,
    ),
    plpgsqlFunction(
      'vector_to_halfvec(vector, integer, boolean) returns halfvec',
      `_v double precision[] := ${dense('$1')};\n  ${HALF_VARS}`,
      `${checkTypmod('$2', card('_v'))}
  ${toHalf('_v', (bad) => raise('numeric_value_out_of_range', `"%s" is out of range for type halfvec`, bad))}
  return ${vectorText('_h')};`,
    ),
  );
  // to and from sparsevec
  for (const type of ['vector', 'halfvec'] as const) {
    out.push(
      plpgsqlFunction(
        `${type}_to_sparsevec(${type}, integer, boolean) returns sparsevec`,
        `_v double precision[] := ${dense('$1')};`,
        `${checkTypmod('$2', card('_v'))}
  return ${sparseFromDense('_v')};`,
      ),
      plpgsqlFunction(
        `sparsevec_to_${type}(sparsevec, integer, boolean) returns ${type}`,
        `_dim integer := ${sparseDim('$1')};\n  _v double precision[];\n  ${HALF_VARS}`,
        `${checkMaxDims(type, '_dim')}
  ${checkTypmod('$2', '_dim')}
  _v := (select pg_catalog.array_agg(coalesce(a.v, 0) order by g) from pg_catalog.generate_series(1, _dim) as g left join ${pairs('$1')} as a on a.i = g);
  ${type === 'vector' ? `return ${vectorText('_v')};` : `${toHalf('_v', (bad) => raise('numeric_value_out_of_range', `"%s" is out of range for type halfvec`, bad))}\n  return ${vectorText('_h')};`}`,
      ),
    );
  }
  return out.join('\n\n');
}

function castsSql(): string {
  const casts: [string, string, string, 'implicit' | 'assignment'][] = [
    ['vector', 'vector', 'vector', 'implicit'],
    ['vector', 'real[]', 'vector_to_float4', 'implicit'],
    ...ARRAY_TYPES.map((t): [string, string, string, 'assignment'] => [`${t}[]`, 'vector', 'array_to_vector', 'assignment']),
    ['halfvec', 'halfvec', 'halfvec', 'implicit'],
    ['halfvec', 'vector', 'halfvec_to_vector', 'assignment'],
    ['vector', 'halfvec', 'vector_to_halfvec', 'implicit'],
    ['halfvec', 'real[]', 'halfvec_to_float4', 'assignment'],
    ...ARRAY_TYPES.map((t): [string, string, string, 'assignment'] => [`${t}[]`, 'halfvec', 'array_to_halfvec', 'assignment']),
    ['sparsevec', 'sparsevec', 'sparsevec', 'implicit'],
    ['sparsevec', 'vector', 'sparsevec_to_vector', 'assignment'],
    ['vector', 'sparsevec', 'vector_to_sparsevec', 'implicit'],
    ['sparsevec', 'halfvec', 'sparsevec_to_halfvec', 'assignment'],
    ['halfvec', 'sparsevec', 'halfvec_to_sparsevec', 'implicit'],
    ...ARRAY_TYPES.map((t): [string, string, string, 'assignment'] => [`${t}[]`, 'sparsevec', 'array_to_sparsevec', 'assignment']),
  ];
  return casts.map(([from, to, fn, context]) => `create cast (${from} as ${to})\n  with function ${fn}(${from}, integer, boolean) as ${context};`).join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// bit

function bitSql(): string {
  const ones = (e: string): string => `pg_catalog.length(pg_catalog.replace((${e})::pg_catalog.text, '0', ''))`;
  const sameLength = `if pg_catalog.length($1) <> pg_catalog.length($2) then
    ${raise('data_exception', 'different bit lengths %s and %s', 'pg_catalog.length($1)', 'pg_catalog.length($2)')}
  end if;`;
  return `${plpgsqlFunction(
    'hamming_distance(bit, bit) returns double precision',
    '',
    `${sameLength}
  return ${ones('$1 operator(pg_catalog.#) $2')};`,
  )}

${plpgsqlFunction(
  'jaccard_distance(bit, bit) returns double precision',
  '_ab double precision;',
  `${sameLength}
  _ab := ${ones('$1 operator(pg_catalog.&) $2')};
  if _ab = 0 then
    return 1;
  end if;
  return 1 - _ab / (${ones('$1')} + ${ones('$2')} - _ab);`,
)}

create operator <~> (
  leftarg = bit, rightarg = bit, function = hamming_distance,
  commutator = '<~>'
);

create operator <%> (
  leftarg = bit, rightarg = bit, function = jaccard_distance,
  commutator = '<%>'
);`;
}

// ---------------------------------------------------------------------------------------------
// Index access methods and their operator classes

const INDEX_OPCLASSES: readonly { am: 'hnsw' | 'ivfflat'; name: string; type: string; isDefault?: boolean }[] = [
  { am: 'ivfflat', name: 'vector_l2_ops', type: 'vector', isDefault: true },
  { am: 'ivfflat', name: 'vector_ip_ops', type: 'vector' },
  { am: 'ivfflat', name: 'vector_cosine_ops', type: 'vector' },
  { am: 'ivfflat', name: 'halfvec_l2_ops', type: 'halfvec' },
  { am: 'ivfflat', name: 'halfvec_ip_ops', type: 'halfvec' },
  { am: 'ivfflat', name: 'halfvec_cosine_ops', type: 'halfvec' },
  { am: 'ivfflat', name: 'bit_hamming_ops', type: 'bit' },
  ...(['vector', 'halfvec', 'sparsevec'] as const).flatMap((type) =>
    ['l2', 'ip', 'cosine', 'l1'].map((metric) => ({ am: 'hnsw' as const, name: `${type}_${metric}_ops`, type })),
  ),
  { am: 'hnsw', name: 'bit_hamming_ops', type: 'bit' },
  { am: 'hnsw', name: 'bit_jaccard_ops', type: 'bit' },
];

function accessMethodsSql(): string {
  const methods = (['ivfflat', 'hnsw'] as const).map(
    (am) => `create function ${am}handler(internal) returns index_am_handler language internal as 'hashhandler';
create access method ${am} type index handler ${am}handler;
comment on access method ${am} is '${am} index access method';`,
  );
  const opclasses = INDEX_OPCLASSES.map(
    (c) => `create operator class ${c.name}
  ${c.isDefault ? 'default ' : ''}for type ${c.type} using ${c.am} as
  function 1 (${c.type}, ${c.type}) pg_catalog.hashvarlena(internal);`,
  );
  return [...methods, ...opclasses].join('\n\n');
}

// ---------------------------------------------------------------------------------------------

const SQL = [
  '-- types (stored as their text)',
  'create type vector;\ncreate type halfvec;\ncreate type sparsevec;',
  typeSql('vector'),
  typeSql('halfvec'),
  typeSql('sparsevec'),
  '-- length coercion: checks and canonical form',
  lengthCast('vector'),
  lengthCast('halfvec'),
  sparseLengthCast(),
  '-- vector',
  denseFunctionsSql('vector'),
  denseAggregatesSql('vector'),
  distanceOperators('vector'),
  arithmeticOperators('vector'),
  comparisonSql('vector'),
  '-- halfvec',
  denseFunctionsSql('halfvec'),
  denseAggregatesSql('halfvec'),
  distanceOperators('halfvec'),
  arithmeticOperators('halfvec'),
  comparisonSql('halfvec'),
  '-- sparsevec',
  sparseFunctionsSql(),
  distanceOperators('sparsevec'),
  comparisonSql('sparsevec'),
  '-- casts',
  castFunctionsSql(),
  castsSql(),
  '-- bit',
  bitSql(),
  '-- index access methods',
  accessMethodsSql(),
].join('\n\n');

export const VECTOR: StandIn = {
  name: 'vector',
  defaultVersion: '0.8.0',
  olderVersions: ['0.4.0', '0.4.1', '0.4.2', '0.4.3', '0.4.4', '0.5.0', '0.5.1', '0.6.0', '0.6.1', '0.6.2', '0.7.0', '0.7.1', '0.7.2', '0.7.3', '0.7.4'],
  relocatable: true,
  comment: 'vector data type and ivfflat and hnsw access methods',
  limits:
    "values are kept as text and every distance is computed exactly in SQL (slowly on large tables), hnsw and ivfflat indexes are hash indexes that never serve a nearest-neighbour query, and values are checked and normalised only where a dimension is declared (not by COPY into a vector(n) column or in an undimensioned vector), with bit(n)'s messages for bad dimensions in a type modifier.",
  sql: SQL,
};
