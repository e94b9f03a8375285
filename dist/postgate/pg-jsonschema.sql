-- How an instance is shown in error messages.
create function @extschema@._pg_jsonschema_show(value jsonb) returns text
language sql immutable
as $postgate_fn$
  select coalesce(value::text, 'null')
$postgate_fn$;

-- The schema a local $ref points at, or null when it is not a pointer into this schema.
create function @extschema@._pg_jsonschema_resolve(root jsonb, ref text) returns jsonb
language sql immutable
as $postgate_fn$
  select case
    when ref = '#' or ref = '' then root
    when ref like '#/%' then root #> (
      select coalesce(pg_catalog.array_agg(
        pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(p.part, '%25', '%'), '~1', '/'), '~0', '~')
        order by p.ord), '{}')
      from pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.substr(ref, 3), '/')) with ordinality as p(part, ord))
    else null
  end
$postgate_fn$;

create function @extschema@._pg_jsonschema_errors(root jsonb, sch jsonb, instance jsonb, depth integer default 0) returns text[]
language plpgsql immutable
as $postgate_fn$
declare
  errs text[] := '{}';
  itype text := pg_catalog.jsonb_typeof(instance);
  types text[];
  type_name text;
  ok boolean;
  target jsonb;
  num numeric;
  bound numeric;
  str text;
  len integer;
  sub jsonb;
  elem jsonb;
  key text;
  idx integer;
  valid_count integer;
  unexpected text[];
begin
  if depth > 200 then
    raise exception 'pg_jsonschema: schema recursion is too deep (a $ref that refers to itself?)'
      using errcode = 'program_limit_exceeded';
  end if;
  if sch is null then
    return errs;
  end if;
  if pg_catalog.jsonb_typeof(sch) = 'boolean' then
    if sch = 'false'::jsonb then
      return array['False schema does not allow ' || @extschema@._pg_jsonschema_show(instance)];
    end if;
    return errs;
  end if;
  if pg_catalog.jsonb_typeof(sch) <> 'object' then
    return errs;
  end if;

  if sch ? '$ref' then
    target := @extschema@._pg_jsonschema_resolve(root, sch ->> '$ref');
    if target is null then
      errs := errs || pg_catalog.format('Unresolvable reference %s (postgate''s pg_jsonschema resolves local JSON pointers only)', sch ->> '$ref');
    else
      errs := errs || @extschema@._pg_jsonschema_errors(root, target, instance, depth + 1);
    end if;
  end if;

  if sch ? 'type' then
    if pg_catalog.jsonb_typeof(sch -> 'type') = 'array' then
      types := array(select pg_catalog.jsonb_array_elements_text(sch -> 'type'));
    else
      types := array[sch ->> 'type'];
    end if;
    ok := false;
    foreach type_name in array types loop
      if type_name = itype
        or (type_name = 'integer' and itype = 'number' and instance::numeric % 1 = 0) then
        ok := true;
        exit;
      end if;
    end loop;
    if not ok then
      if pg_catalog.cardinality(types) = 1 then
        errs := errs || pg_catalog.format('%s is not of type "%s"', @extschema@._pg_jsonschema_show(instance), types[1]);
      else
        errs := errs || pg_catalog.format('%s is not of types %s', @extschema@._pg_jsonschema_show(instance),
          (select pg_catalog.string_agg('"' || t || '"', ', ') from pg_catalog.unnest(types) as t));
      end if;
    end if;
  end if;

  if sch ? 'enum' and pg_catalog.jsonb_typeof(sch -> 'enum') = 'array' then
    if not exists (select 1 from pg_catalog.jsonb_array_elements(sch -> 'enum') as e(v) where e.v = instance) then
      errs := errs || pg_catalog.format('%s is not one of %s', @extschema@._pg_jsonschema_show(instance), (sch -> 'enum')::text);
    end if;
  end if;

  if sch ? 'const' and (sch -> 'const') is distinct from instance then
    errs := errs || pg_catalog.format('%s was expected', (sch -> 'const')::text);
  end if;

  if itype = 'number' then
    num := instance::numeric;
    if pg_catalog.jsonb_typeof(sch -> 'minimum') = 'number' then
      bound := (sch -> 'minimum')::numeric;
      if (sch -> 'exclusiveMinimum') = 'true'::jsonb then
        if num <= bound then
          errs := errs || pg_catalog.format('%s is less than or equal to the minimum of %s', instance::text, (sch -> 'minimum')::text);
        end if;
      elsif num < bound then
        errs := errs || pg_catalog.format('%s is less than the minimum of %s', instance::text, (sch -> 'minimum')::text);
      end if;
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'maximum') = 'number' then
      bound := (sch -> 'maximum')::numeric;
      if (sch -> 'exclusiveMaximum') = 'true'::jsonb then
        if num >= bound then
          errs := errs || pg_catalog.format('%s is greater than or equal to the maximum of %s', instance::text, (sch -> 'maximum')::text);
        end if;
      elsif num > bound then
        errs := errs || pg_catalog.format('%s is greater than the maximum of %s', instance::text, (sch -> 'maximum')::text);
      end if;
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'exclusiveMinimum') = 'number' and num <= (sch -> 'exclusiveMinimum')::numeric then
      errs := errs || pg_catalog.format('%s is less than or equal to the minimum of %s', instance::text, (sch -> 'exclusiveMinimum')::text);
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'exclusiveMaximum') = 'number' and num >= (sch -> 'exclusiveMaximum')::numeric then
      errs := errs || pg_catalog.format('%s is greater than or equal to the maximum of %s', instance::text, (sch -> 'exclusiveMaximum')::text);
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'multipleOf') = 'number' and (sch -> 'multipleOf')::numeric > 0
      and num % (sch -> 'multipleOf')::numeric <> 0 then
      errs := errs || pg_catalog.format('%s is not a multiple of %s', instance::text, (sch -> 'multipleOf')::text);
    end if;
  end if;

  if itype = 'string' then
    str := instance #>> '{}';
    len := pg_catalog.char_length(str);
    if pg_catalog.jsonb_typeof(sch -> 'minLength') = 'number' and len < (sch -> 'minLength')::numeric then
      errs := errs || pg_catalog.format('%s is shorter than %s character%s', instance::text, (sch -> 'minLength')::text,
        case when (sch -> 'minLength')::numeric = 1 then '' else 's' end);
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'maxLength') = 'number' and len > (sch -> 'maxLength')::numeric then
      errs := errs || pg_catalog.format('%s is longer than %s character%s', instance::text, (sch -> 'maxLength')::text,
        case when (sch -> 'maxLength')::numeric = 1 then '' else 's' end);
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'pattern') = 'string' and not (str ~ (sch ->> 'pattern')) then
      errs := errs || pg_catalog.format('%s does not match "%s"', instance::text, sch ->> 'pattern');
    end if;
  end if;

  if itype = 'array' then
    len := pg_catalog.jsonb_array_length(instance);
    if pg_catalog.jsonb_typeof(sch -> 'minItems') = 'number' and len < (sch -> 'minItems')::numeric then
      errs := errs || pg_catalog.format('%s has less than %s item%s', instance::text, (sch -> 'minItems')::text,
        case when (sch -> 'minItems')::numeric = 1 then '' else 's' end);
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'maxItems') = 'number' and len > (sch -> 'maxItems')::numeric then
      errs := errs || pg_catalog.format('%s has more than %s item%s', instance::text, (sch -> 'maxItems')::text,
        case when (sch -> 'maxItems')::numeric = 1 then '' else 's' end);
    end if;
    if (sch -> 'uniqueItems') = 'true'::jsonb
      and (select pg_catalog.count(distinct e.v) from pg_catalog.jsonb_array_elements(instance) as e(v)) < len then
      errs := errs || pg_catalog.format('%s has non-unique elements', instance::text);
    end if;
    -- positional schemas: prefixItems (2020-12) or an array-valued items (draft 4-7)
    if pg_catalog.jsonb_typeof(sch -> 'prefixItems') = 'array' then
      sub := sch -> 'prefixItems';
    elsif pg_catalog.jsonb_typeof(sch -> 'items') = 'array' then
      sub := sch -> 'items';
    else
      sub := null;
    end if;
    for idx in 0 .. len - 1 loop
      elem := instance -> idx;
      if sub is not null and idx < pg_catalog.jsonb_array_length(sub) then
        errs := errs || @extschema@._pg_jsonschema_errors(root, sub -> idx, elem, depth + 1);
      elsif sub is not null and pg_catalog.jsonb_typeof(sch -> 'items') = 'array' then
        if sch ? 'additionalItems' then
          errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'additionalItems', elem, depth + 1);
        end if;
      elsif sch ? 'items' and pg_catalog.jsonb_typeof(sch -> 'items') in ('object', 'boolean') then
        errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'items', elem, depth + 1);
      end if;
    end loop;
    if sch ? 'contains' then
      ok := false;
      for idx in 0 .. len - 1 loop
        if pg_catalog.cardinality(@extschema@._pg_jsonschema_errors(root, sch -> 'contains', instance -> idx, depth + 1)) = 0 then
          ok := true;
          exit;
        end if;
      end loop;
      if not ok then
        errs := errs || pg_catalog.format('None of %s are valid under the given schema', instance::text);
      end if;
    end if;
  end if;

  if itype = 'object' then
    if pg_catalog.jsonb_typeof(sch -> 'required') = 'array' then
      for key in select pg_catalog.jsonb_array_elements_text(sch -> 'required') loop
        if not instance ? key then
          errs := errs || pg_catalog.format('"%s" is a required property', key);
        end if;
      end loop;
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'dependentRequired') = 'object' then
      for key, sub in select d.key, d.value from pg_catalog.jsonb_each(sch -> 'dependentRequired') as d loop
        if instance ? key and pg_catalog.jsonb_typeof(sub) = 'array' then
          for str in select pg_catalog.jsonb_array_elements_text(sub) loop
            if not instance ? str then
              errs := errs || pg_catalog.format('"%s" is a required property', str);
            end if;
          end loop;
        end if;
      end loop;
    end if;
    len := (select pg_catalog.count(*) from pg_catalog.jsonb_object_keys(instance));
    if pg_catalog.jsonb_typeof(sch -> 'minProperties') = 'number' and len < (sch -> 'minProperties')::numeric then
      errs := errs || pg_catalog.format('%s has less than %s propert%s', instance::text, (sch -> 'minProperties')::text,
        case when (sch -> 'minProperties')::numeric = 1 then 'y' else 'ies' end);
    end if;
    if pg_catalog.jsonb_typeof(sch -> 'maxProperties') = 'number' and len > (sch -> 'maxProperties')::numeric then
      errs := errs || pg_catalog.format('%s has more than %s propert%s', instance::text, (sch -> 'maxProperties')::text,
        case when (sch -> 'maxProperties')::numeric = 1 then 'y' else 'ies' end);
    end if;
    unexpected := '{}';
    for key, elem in select o.key, o.value from pg_catalog.jsonb_each(instance) as o order by o.key loop
      ok := false;
      if pg_catalog.jsonb_typeof(sch -> 'properties') = 'object' and (sch -> 'properties') ? key then
        ok := true;
        errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'properties' -> key, elem, depth + 1);
      end if;
      if pg_catalog.jsonb_typeof(sch -> 'patternProperties') = 'object' then
        for str, sub in select p.key, p.value from pg_catalog.jsonb_each(sch -> 'patternProperties') as p loop
          if key ~ str then
            ok := true;
            errs := errs || @extschema@._pg_jsonschema_errors(root, sub, elem, depth + 1);
          end if;
        end loop;
      end if;
      if not ok and sch ? 'additionalProperties' then
        if (sch -> 'additionalProperties') = 'false'::jsonb then
          unexpected := unexpected || key;
        else
          errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'additionalProperties', elem, depth + 1);
        end if;
      end if;
      if sch ? 'propertyNames' then
        errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'propertyNames', pg_catalog.to_jsonb(key), depth + 1);
      end if;
    end loop;
    if pg_catalog.cardinality(unexpected) > 0 then
      errs := errs || pg_catalog.format('Additional properties are not allowed (%s %s unexpected)',
        (select pg_catalog.string_agg('''' || u || '''', ', ') from pg_catalog.unnest(unexpected) as u),
        case when pg_catalog.cardinality(unexpected) = 1 then 'was' else 'were' end);
    end if;
  end if;

  if pg_catalog.jsonb_typeof(sch -> 'allOf') = 'array' then
    for sub in select pg_catalog.jsonb_array_elements(sch -> 'allOf') loop
      errs := errs || @extschema@._pg_jsonschema_errors(root, sub, instance, depth + 1);
    end loop;
  end if;
  if pg_catalog.jsonb_typeof(sch -> 'anyOf') = 'array' then
    ok := false;
    for sub in select pg_catalog.jsonb_array_elements(sch -> 'anyOf') loop
      if pg_catalog.cardinality(@extschema@._pg_jsonschema_errors(root, sub, instance, depth + 1)) = 0 then
        ok := true;
        exit;
      end if;
    end loop;
    if not ok then
      errs := errs || pg_catalog.format('%s is not valid under any of the schemas listed in the ''anyOf'' keyword', instance::text);
    end if;
  end if;
  if pg_catalog.jsonb_typeof(sch -> 'oneOf') = 'array' then
    valid_count := 0;
    for sub in select pg_catalog.jsonb_array_elements(sch -> 'oneOf') loop
      if pg_catalog.cardinality(@extschema@._pg_jsonschema_errors(root, sub, instance, depth + 1)) = 0 then
        valid_count := valid_count + 1;
      end if;
    end loop;
    if valid_count = 0 then
      errs := errs || pg_catalog.format('%s is not valid under any of the schemas listed in the ''oneOf'' keyword', instance::text);
    elsif valid_count > 1 then
      errs := errs || pg_catalog.format('%s is valid under more than one of the schemas listed in the ''oneOf'' keyword', instance::text);
    end if;
  end if;
  if sch ? 'not' and pg_catalog.cardinality(@extschema@._pg_jsonschema_errors(root, sch -> 'not', instance, depth + 1)) = 0 then
    errs := errs || pg_catalog.format('%s is not allowed for %s', (sch -> 'not')::text, instance::text);
  end if;
  if sch ? 'if' then
    if pg_catalog.cardinality(@extschema@._pg_jsonschema_errors(root, sch -> 'if', instance, depth + 1)) = 0 then
      if sch ? 'then' then
        errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'then', instance, depth + 1);
      end if;
    elsif sch ? 'else' then
      errs := errs || @extschema@._pg_jsonschema_errors(root, sch -> 'else', instance, depth + 1);
    end if;
  end if;

  return errs;
end
$postgate_fn$;

-- Is this a JSON Schema at all: the keywords the validator uses have values of the right kind.
create function @extschema@._pg_jsonschema_schema_ok(sch jsonb, depth integer default 0) returns boolean
language plpgsql immutable
as $postgate_fn$
declare
  kind text := pg_catalog.jsonb_typeof(sch);
  key text;
  sub jsonb;
  names text[] := array['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'];
begin
  if depth > 200 then
    return false;
  end if;
  if kind = 'boolean' then
    return true;
  end if;
  if kind is distinct from 'object' then
    return false;
  end if;
  if sch ? 'type' then
    if pg_catalog.jsonb_typeof(sch -> 'type') = 'string' then
      if not (sch ->> 'type') = any (names) then return false; end if;
    elsif pg_catalog.jsonb_typeof(sch -> 'type') = 'array' then
      if exists (select 1 from pg_catalog.jsonb_array_elements(sch -> 'type') as t(v)
                 where pg_catalog.jsonb_typeof(t.v) <> 'string' or not (t.v #>> '{}') = any (names)) then
        return false;
      end if;
    else
      return false;
    end if;
  end if;
  if sch ? 'required' and (pg_catalog.jsonb_typeof(sch -> 'required') <> 'array'
      or exists (select 1 from pg_catalog.jsonb_array_elements(sch -> 'required') as r(v) where pg_catalog.jsonb_typeof(r.v) <> 'string')) then
    return false;
  end if;
  if sch ? 'enum' and pg_catalog.jsonb_typeof(sch -> 'enum') <> 'array' then
    return false;
  end if;
  foreach key in array array['minimum', 'maximum', 'multipleOf'] loop
    if sch ? key and pg_catalog.jsonb_typeof(sch -> key) <> 'number' then return false; end if;
  end loop;
  foreach key in array array['exclusiveMinimum', 'exclusiveMaximum'] loop
    if sch ? key and pg_catalog.jsonb_typeof(sch -> key) not in ('number', 'boolean') then return false; end if;
  end loop;
  foreach key in array array['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'] loop
    if sch ? key and (pg_catalog.jsonb_typeof(sch -> key) <> 'number' or (sch -> key)::numeric < 0 or (sch -> key)::numeric % 1 <> 0) then
      return false;
    end if;
  end loop;
  if sch ? 'pattern' then
    if pg_catalog.jsonb_typeof(sch -> 'pattern') <> 'string' then return false; end if;
    begin
      perform '' ~ (sch ->> 'pattern');
    exception when invalid_regular_expression then
      return false;
    end;
  end if;
  foreach key in array array['properties', 'patternProperties', 'definitions', '$defs', 'dependentRequired'] loop
    if sch ? key then
      if pg_catalog.jsonb_typeof(sch -> key) <> 'object' then return false; end if;
      if key not in ('dependentRequired') then
        for sub in select d.value from pg_catalog.jsonb_each(sch -> key) as d loop
          if not @extschema@._pg_jsonschema_schema_ok(sub, depth + 1) then return false; end if;
        end loop;
      end if;
    end if;
  end loop;
  foreach key in array array['additionalProperties', 'additionalItems', 'not', 'contains', 'propertyNames', 'if', 'then', 'else'] loop
    if sch ? key and not @extschema@._pg_jsonschema_schema_ok(sch -> key, depth + 1) then return false; end if;
  end loop;
  if sch ? 'items' then
    if pg_catalog.jsonb_typeof(sch -> 'items') = 'array' then
      for sub in select pg_catalog.jsonb_array_elements(sch -> 'items') loop
        if not @extschema@._pg_jsonschema_schema_ok(sub, depth + 1) then return false; end if;
      end loop;
    elsif not @extschema@._pg_jsonschema_schema_ok(sch -> 'items', depth + 1) then
      return false;
    end if;
  end if;
  foreach key in array array['allOf', 'anyOf', 'oneOf', 'prefixItems'] loop
    if sch ? key then
      if pg_catalog.jsonb_typeof(sch -> key) <> 'array' or pg_catalog.jsonb_array_length(sch -> key) = 0 then return false; end if;
      for sub in select pg_catalog.jsonb_array_elements(sch -> key) loop
        if not @extschema@._pg_jsonschema_schema_ok(sub, depth + 1) then return false; end if;
      end loop;
    end if;
  end loop;
  if sch ? '$ref' and pg_catalog.jsonb_typeof(sch -> '$ref') <> 'string' then
    return false;
  end if;
  return true;
end
$postgate_fn$;

create function @extschema@._pg_jsonschema_check(sch jsonb) returns jsonb
language plpgsql immutable
as $postgate_fn$
begin
  if not @extschema@._pg_jsonschema_schema_ok(sch) then
    raise exception 'pg_jsonschema: the schema is not a valid JSON Schema'
      using errcode = 'invalid_parameter_value';
  end if;
  return sch;
end
$postgate_fn$;

create function @extschema@.jsonschema_is_valid(schema json) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@._pg_jsonschema_schema_ok(schema::jsonb)
$postgate_fn$;

create function @extschema@.jsonschema_validation_errors(schema json, instance json) returns text[]
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@._pg_jsonschema_errors(s.sch, s.sch, instance::jsonb)
  from (select @extschema@._pg_jsonschema_check(schema::jsonb) as sch) s
$postgate_fn$;

create function @extschema@.jsonb_matches_schema(schema json, instance jsonb) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select pg_catalog.cardinality(@extschema@._pg_jsonschema_errors(s.sch, s.sch, instance)) = 0
  from (select @extschema@._pg_jsonschema_check(schema::jsonb) as sch) s
$postgate_fn$;

create function @extschema@.json_matches_schema(schema json, instance json) returns boolean
language sql immutable strict parallel safe
as $postgate_fn$
  select @extschema@.jsonb_matches_schema(schema, instance::jsonb)
$postgate_fn$;
