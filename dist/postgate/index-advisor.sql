create function index_advisor(query text)
returns table (
  startup_cost_before jsonb,
  startup_cost_after jsonb,
  total_cost_before jsonb,
  total_cost_after jsonb,
  index_statements text[],
  errors text[]
)
language plpgsql volatile
as $postgate_fn$
declare
  statement_name text := 'postgate_index_advisor_' || pg_catalog.md5(pg_catalog.clock_timestamp()::text || pg_catalog.random()::text);
  param_count integer;
  plan jsonb;
  problems text[] := array['index_advisor stand-in (postgate shadow database): hypothetical indexes are not evaluated, so no index is suggested'];
begin
  begin
    execute pg_catalog.format('prepare %I as %s', statement_name, pg_catalog.rtrim(pg_catalog.btrim(query), ';'));
    select coalesce(pg_catalog.cardinality(p.parameter_types), 0) into param_count
    from pg_catalog.pg_prepared_statements p where p.name = statement_name;
    execute pg_catalog.format('explain (format json) execute %I%s', statement_name,
      case when param_count > 0
        then '(' || pg_catalog.array_to_string(pg_catalog.array_fill('null'::text, array[param_count]), ', ') || ')'
        else '' end)
      into plan;
    execute pg_catalog.format('deallocate %I', statement_name);
  exception when others then
    problems := problems || sqlerrm;
    if exists (select 1 from pg_catalog.pg_prepared_statements p where p.name = statement_name) then
      execute pg_catalog.format('deallocate %I', statement_name);
    end if;
  end;
  startup_cost_before := plan -> 0 -> 'Plan' -> 'Startup Cost';
  startup_cost_after := startup_cost_before;
  total_cost_before := plan -> 0 -> 'Plan' -> 'Total Cost';
  total_cost_after := total_cost_before;
  index_statements := '{}';
  errors := problems;
  return next;
end
$postgate_fn$;
