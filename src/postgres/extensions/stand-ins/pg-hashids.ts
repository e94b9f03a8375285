/**
 * pg_hashids stand-in: pg_hashids 1.3's functions with the Hashids algorithm implemented in
 * PL/pgSQL, written from the algorithm's published description (hashids.org), so ids encoded in
 * the shadow are the ids Supabase's pg_hashids produces (the README's examples are reproduced by
 * the integration test):
 *
 *   id_encode(bigint [, salt text [, min_length int [, alphabet text]]]) -> text
 *   id_encode(bigint[] [, salt [, min_length [, alphabet]]]) -> text
 *   id_decode(hash text [, salt [, min_length [, alphabet]]]) -> bigint[]
 *   id_decode_once(hash text [, salt [, min_length [, alphabet]]]) -> bigint
 *   hash_encode(bigint [, salt [, min_length]]), hash_decode(text, text, int) -> int (1.0 names)
 *
 * The algorithm, in short: the alphabet is deduplicated; the separators are the letters of
 * "cfhistuCFHISTU" present in it (taken out of the alphabet), shuffled with the salt and
 * balanced to about one separator per 3.5 alphabet letters; the alphabet is shuffled with the
 * salt and one letter in 12 becomes a guard. Encoding picks a "lottery" letter from the numbers,
 * and for each number reshuffles the alphabet with lottery + salt + alphabet and writes the
 * number in that alphabet's base, with a separator between numbers; guards, then halves of a
 * self-shuffled alphabet, pad the result to the minimum length. Decoding reverses this and
 * re-encodes the result, returning nothing when the re-encoding differs (wrong salt, foreign
 * hash). The shuffle is the consistent shuffle of the Hashids spec, driven by character codes.
 *
 * Written once in a PL/pgSQL core (_pg_hashids); the public functions are SQL-standard bodies
 * (BEGIN ATOMIC) bound to that core when the extension is created, so they work under any
 * search_path and follow the extension through ALTER EXTENSION ... SET SCHEMA.
 */
import type { StandIn } from '../types.ts';

const DEFAULT_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890';

/** The Hashids consistent shuffle of the text[] `arr` by the character codes in the int[] `codes`. */
function shuffle(arr: string, codes: string): string {
  return `
    sh_n := coalesce(pg_catalog.array_length(${codes}, 1), 0);
    if sh_n > 0 then
      sh_v := 0;
      sh_p := 0;
      for sh_i in reverse coalesce(pg_catalog.array_length(${arr}, 1), 0) - 1 .. 1 loop
        sh_v := sh_v % sh_n;
        sh_c := ${codes}[sh_v + 1];
        sh_p := sh_p + sh_c;
        sh_j := (sh_c + sh_v + sh_p) % sh_i;
        sh_tmp := ${arr}[sh_i + 1];
        ${arr}[sh_i + 1] := ${arr}[sh_j + 1];
        ${arr}[sh_j + 1] := sh_tmp;
        sh_v := sh_v + 1;
      end loop;
    end if;`;
}

/** Character codes of a text expression, as int[]. */
function codesOf(text: string): string {
  return `array(select pg_catalog.ascii(ch.c) from pg_catalog.unnest(pg_catalog.string_to_array(${text}, null)) with ordinality as ch(c, o) order by ch.o)`;
}

const CORE = String.raw`
create function _pg_hashids(numbers bigint[], hash text, salt text, min_length integer, alphabet text,
                            out result_hash text, out result_numbers bigint[])
language plpgsql immutable parallel safe
as $postgate_fn$
declare
  alph text[];
  seps text[];
  guards text[];
  work text[];
  salt_codes integer[];
  codes integer[];
  seplen integer;
  glen integer;
  alen integer;
  diff integer;
  nums bigint[];
  nh bigint;
  n bigint;
  k integer;
  gi bigint;
  half integer;
  excess integer;
  lottery text;
  last text;
  ret text;
  buf text;
  parts text[];
  pick text;
  sub text;
  val numeric;
  pos integer;
  ch text;
  sh_n integer;
  sh_v integer;
  sh_p integer;
  sh_i integer;
  sh_j integer;
  sh_c integer;
  sh_tmp text;
begin
  salt := coalesce(salt, '');
  min_length := greatest(coalesce(min_length, 0), 0);

  -- the alphabet, deduplicated in order of first appearance
  alph := array(
    select a.c from pg_catalog.unnest(pg_catalog.string_to_array(coalesce(alphabet, '${DEFAULT_ALPHABET}'), null)) with ordinality as a(c, o)
    group by a.c order by pg_catalog.min(a.o));
  if coalesce(pg_catalog.cardinality(alph), 0) < 16 then
    raise exception 'pg_hashids: the alphabet must contain at least 16 unique characters'
      using errcode = 'invalid_parameter_value';
  end if;
  if ' ' = any (alph) or E'\t' = any (alph) then
    raise exception 'pg_hashids: the alphabet cannot contain spaces'
      using errcode = 'invalid_parameter_value';
  end if;

  -- separators: the default separators found in the alphabet, taken out of it
  seps := array(
    select s.c from pg_catalog.unnest(pg_catalog.string_to_array('cfhistuCFHISTU', null)) with ordinality as s(c, o)
    where s.c = any (alph) order by s.o);
  alph := array(select a.c from pg_catalog.unnest(alph) with ordinality as a(c, o) where not a.c = any (seps) order by a.o);
  salt_codes := ${codesOf('salt')};
  ${shuffle('seps', 'salt_codes')}
  -- (no division when there is no separator: an IF condition cannot hold a CASE in PL/pgSQL)
  if pg_catalog.cardinality(seps) = 0 then
    seplen := 0;
  elsif pg_catalog.cardinality(alph)::numeric / pg_catalog.cardinality(seps) > 3.5 then
    seplen := 0;
  else
    seplen := pg_catalog.cardinality(seps);
  end if;
  if seplen = 0 then
    seplen := pg_catalog.ceil(pg_catalog.cardinality(alph) / 3.5)::integer;
    if seplen = 1 then
      seplen := 2;
    end if;
    if seplen > pg_catalog.cardinality(seps) then
      diff := seplen - pg_catalog.cardinality(seps);
      seps := seps || alph[1:diff];
      alph := coalesce(alph[diff + 1:], '{}');
    else
      seps := seps[1:seplen];
    end if;
  end if;
  ${shuffle('alph', 'salt_codes')}

  -- guards: one alphabet letter in twelve
  glen := pg_catalog.ceil(pg_catalog.cardinality(alph) / 12.0)::integer;
  if pg_catalog.cardinality(alph) < 3 then
    guards := seps[1:glen];
    seps := coalesce(seps[glen + 1:], '{}');
  else
    guards := alph[1:glen];
    alph := coalesce(alph[glen + 1:], '{}');
  end if;
  alen := pg_catalog.cardinality(alph);
  seplen := pg_catalog.cardinality(seps);

  if hash is not null then
    -- decode: the part between the guards, its lottery letter, then one number per separator
    parts := pg_catalog.string_to_array(pg_catalog.translate(hash, pg_catalog.array_to_string(guards, ''), pg_catalog.repeat(' ', pg_catalog.cardinality(guards))), ' ');
    if coalesce(pg_catalog.cardinality(parts), 0) in (2, 3) then
      pick := parts[2];
    else
      pick := parts[1];
    end if;
    if coalesce(pick, '') = '' then
      result_hash := '';
      result_numbers := '{}';
      return;
    end if;
    lottery := pg_catalog.substr(pick, 1, 1);
    nums := '{}';
    work := alph;
    foreach sub in array pg_catalog.string_to_array(
        pg_catalog.translate(pg_catalog.substr(pick, 2), pg_catalog.array_to_string(seps, ''), pg_catalog.repeat(' ', seplen)), ' ') loop
      buf := pg_catalog.substr(lottery || salt || pg_catalog.array_to_string(work, ''), 1, alen);
      codes := ${codesOf('buf')};
      ${shuffle('work', 'codes')}
      val := 0;
      foreach ch in array coalesce(pg_catalog.string_to_array(sub, null), '{}') loop
        pos := pg_catalog.array_position(work, ch);
        if pos is null then
          result_hash := '';
          result_numbers := '{}';
          return;
        end if;
        val := val * alen + (pos - 1);
      end loop;
      if val > 9223372036854775807 then
        result_hash := '';
        result_numbers := '{}';
        return;
      end if;
      nums := nums || val::bigint;
    end loop;
  else
    nums := numbers;
  end if;

  -- encode
  if coalesce(pg_catalog.cardinality(nums), 0) = 0 then
    result_hash := '';
    result_numbers := '{}';
    return;
  end if;
  if exists (select 1 from pg_catalog.unnest(nums) as x where x is null) then
    raise exception 'pg_hashids: cannot encode a null number'
      using errcode = 'null_value_not_allowed';
  end if;
  if exists (select 1 from pg_catalog.unnest(nums) as x where x < 0) then
    -- Hashids encodes non-negative numbers only; like its reference implementation, nothing comes out
    result_hash := '';
    result_numbers := '{}';
    return;
  end if;
  nh := 0;
  for k in 1 .. pg_catalog.cardinality(nums) loop
    nh := nh + nums[k] % (k - 1 + 100);
  end loop;
  lottery := alph[(nh % alen) + 1];
  ret := lottery;
  work := alph;
  for k in 1 .. pg_catalog.cardinality(nums) loop
    buf := pg_catalog.substr(lottery || salt || pg_catalog.array_to_string(work, ''), 1, alen);
    codes := ${codesOf('buf')};
    ${shuffle('work', 'codes')}
    n := nums[k];
    last := '';
    loop
      last := work[(n % alen) + 1] || last;
      n := n / alen;
      exit when n = 0;
    end loop;
    ret := ret || last;
    if k < pg_catalog.cardinality(nums) then
      n := nums[k] % (pg_catalog.ascii(last) + k - 1);
      ret := ret || seps[(n % seplen) + 1];
    end if;
  end loop;
  if pg_catalog.char_length(ret) < min_length then
    gi := (nh + pg_catalog.ascii(pg_catalog.substr(ret, 1, 1))) % pg_catalog.cardinality(guards);
    ret := guards[gi + 1] || ret;
    if pg_catalog.char_length(ret) < min_length then
      gi := (nh + pg_catalog.ascii(pg_catalog.substr(ret, 3, 1))) % pg_catalog.cardinality(guards);
      ret := ret || guards[gi + 1];
    end if;
  end if;
  half := alen / 2;
  while pg_catalog.char_length(ret) < min_length loop
    codes := ${codesOf("pg_catalog.array_to_string(work, '')")};
    ${shuffle('work', 'codes')}
    ret := pg_catalog.array_to_string(work[half + 1:alen], '') || ret || pg_catalog.array_to_string(work[1:half], '');
    excess := pg_catalog.char_length(ret) - min_length;
    if excess > 0 then
      ret := pg_catalog.substr(ret, excess / 2 + 1, min_length);
    end if;
  end loop;

  result_hash := ret;
  if hash is not null and ret <> hash then
    result_numbers := '{}';
  else
    result_numbers := nums;
  end if;
end
$postgate_fn$;
`;

interface Overload {
  args: string[];
  salt: string;
  minLength: string;
  alphabet: string;
}

const OVERLOADS: Overload[] = [
  { args: [], salt: "''", minLength: '0', alphabet: 'null' },
  { args: ['text'], salt: '$2', minLength: '0', alphabet: 'null' },
  { args: ['text', 'integer'], salt: '$2', minLength: '$3', alphabet: 'null' },
  { args: ['text', 'integer', 'text'], salt: '$2', minLength: '$3', alphabet: '$4' },
];

function wrapper(name: string, first: string, returns: string, body: (o: Overload) => string, overloads = OVERLOADS): string {
  return overloads
    .map(
      (o) => `
create function ${name}(${[first, ...o.args].join(', ')}) returns ${returns}
language sql immutable strict parallel safe
begin atomic
  ${body(o)};
end;`,
    )
    .join('\n');
}

const encode = (numbers: string) => (o: Overload) => `select (_pg_hashids(${numbers}, null, ${o.salt}, ${o.minLength}, ${o.alphabet})).result_hash`;
const decode = (o: Overload) => `select (_pg_hashids(null, $1, ${o.salt}, ${o.minLength}, ${o.alphabet})).result_numbers`;
const decodeOnce = (o: Overload) => `select ((_pg_hashids(null, $1, ${o.salt}, ${o.minLength}, ${o.alphabet})).result_numbers)[1]`;

const SQL = [
  CORE,
  wrapper('id_encode', 'bigint', 'text', encode('array[$1]')),
  wrapper('id_encode', 'bigint[]', 'text', encode('$1')),
  wrapper('id_decode', 'text', 'bigint[]', decode),
  wrapper('id_decode_once', 'text', 'bigint', decodeOnce),
  wrapper('hash_encode', 'bigint', 'text', encode('array[$1]'), OVERLOADS.slice(0, 3)),
  wrapper('hash_decode', 'text', 'integer', (o) => `${decodeOnce(o)}::integer`, [OVERLOADS[2]!]),
  '',
].join('\n');

export const PG_HASHIDS: StandIn = {
  name: 'pg_hashids',
  // what pg_available_extensions shows on Supabase's Postgres 15 images (a build of 1.3)
  defaultVersion: '1.3.0-cd0e1b31d52b394a0df64079406a14a4f7387cd6',
  olderVersions: ['1.3', '1.2.1'],
  relocatable: true,
  comment: 'pg_hashids',
  limits:
    'Implements Hashids in PL/pgSQL (slower than the C original); salts and alphabets are read as characters, so only ASCII ones are guaranteed to give the same ids as pg_hashids.',
  sql: SQL,
};
