-- Shared MCP call budgets, all or nothing (PRODUCT.md §4; SECURITY.md A9, A10, F5). A call spends
-- several budgets at once (its token's, its subject's, its client's and its tenant's, the last three
-- per endpoint kind); app.spend_budgets charges every one of them or none: a call refused by one
-- budget spends nothing of the others. One statement, one round trip; exact across instances,
-- because the rows are locked (in key order, so two calls never deadlock) before they are checked.
--
-- Keys name their tenant inside ('t:<tenant>:customer:subject:<id>') and carry no customer data.
-- No RLS: the table holds counters, not tenant rows. UNLOGGED: a crash empties it, which costs at
-- most one window (a minute) of slack, and the hot path writes no WAL for it.
create unlogged table mcp_budget_windows (
  key text primary key,
  points integer not null,
  -- When the current window ends, in milliseconds since the epoch by the database's clock (the one
  -- clock every instance shares).
  ends_at bigint not null
);
create index mcp_budget_windows_ends_at on mcp_budget_windows (ends_at);
grant select, insert, update, delete on mcp_budget_windows to commerce_app;

-- For each budget i: key p_keys[i], the call costs p_costs[i], the window allows p_caps[i] points and
-- lasts p_windows_ms[i]. Returns one row per budget with the points spent in its window after this
-- call (charged or not), when the window ends (ms from now), and whether the call was charged.
create function app.spend_budgets(p_keys text[], p_costs integer[], p_caps integer[], p_windows_ms bigint[])
  returns table (budget_key text, spent integer, resets_in_ms bigint, charged boolean)
  language plpgsql volatile security invoker set search_path = pg_catalog, public
as $$
declare
  now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  fits boolean;
  locked integer;
begin
  -- Every bucket exists, created in key order, and is locked in key order; from here to commit no
  -- other call reads or charges these buckets. Descending order takes the tenant's bucket (the one
  -- every call of the tenant needs, 't:<tenant>:<kind>') last, so it is held the shortest time.
  -- Should an idle bucket be swept away between the two steps, the loop creates it again.
  loop
    insert into mcp_budget_windows (key, points, ends_at)
      select w.k, 0, now_ms + w.win from unnest(p_keys, p_windows_ms) as w(k, win) order by w.k desc
      on conflict (key) do nothing;
    select count(*) into locked
      from (select 1 from mcp_budget_windows b where b.key = any (p_keys) order by b.key desc for update) as l;
    exit when locked = cardinality(p_keys);
  end loop;
  -- The time the decision is made at, after any wait for the locks.
  now_ms := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  select bool_and((case when b.ends_at <= now_ms then 0 else b.points end) + w.cost <= w.cap) into fits
    from unnest(p_keys, p_costs, p_caps) as w(k, cost, cap) join mcp_budget_windows b on b.key = w.k;
  if fits then
    update mcp_budget_windows b
       set points = case when b.ends_at <= now_ms then w.cost else b.points + w.cost end,
           ends_at = case when b.ends_at <= now_ms then now_ms + w.win else b.ends_at end
      from unnest(p_keys, p_costs, p_windows_ms) as w(k, cost, win)
     where b.key = w.k;
  end if;
  return query
    select b.key, case when b.ends_at <= now_ms then 0 else b.points end,
           case when b.ends_at <= now_ms then w.win else b.ends_at - now_ms end, coalesce(fits, false)
      from unnest(p_keys, p_windows_ms) as w(k, win) join mcp_budget_windows b on b.key = w.k;
end $$;
revoke execute on function app.spend_budgets(text[], integer[], integer[], bigint[]) from public;
grant execute on function app.spend_budgets(text[], integer[], integer[], bigint[]) to commerce_app;

-- Ended windows are removed now and then (src/ratelimit/windows.ts), never on the hot path, skipping
-- rows a call holds.
