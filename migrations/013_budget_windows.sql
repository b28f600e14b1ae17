-- Shared MCP call budgets, all or nothing (docs/DESIGN.md §4; catalogue A9, A10, F5). A call spends
-- several budgets at once (its token's, its subject's, its client's and its tenant's, the last three
-- per endpoint kind); app.spend_budgets charges every one of them or none: a call refused by one
-- budget spends nothing of the others. One statement, one round trip; exact across instances,
-- because the rows are locked (in one order, so two calls never deadlock) before they are checked.
--
-- Keys name their tenant inside ('t:<tenant>:customer:subject:<id>') and carry no customer data.
-- Buckets are created by the service in a statement of their own (src/ratelimit/windows.ts)
-- before they are first spent.
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
-- call (charged or not), when the window ends (ms from now), and whether the call was charged; no
-- rows at all when a bucket does not exist yet (see below).
create function app.spend_budgets(p_keys text[], p_costs integer[], p_caps integer[], p_windows_ms bigint[])
  returns table (budget_key text, spent integer, resets_in_ms bigint, charged boolean)
  language plpgsql volatile security invoker set search_path = pg_catalog, public
as $$
declare
  now_ms bigint;
  locked integer;
  fits boolean;
  ks text[];
  ps integer[];
  rs bigint[];
begin
  -- Lock the call's buckets in one order (descending: the tenant's bucket 't:<tenant>:<kind>', the
  -- one every call of the tenant needs, is taken last and held shortest) and check them in the same
  -- statement. From here to commit no other call reads or charges them.
  now_ms := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  select count(*), bool_and(l.fresh + w.cost <= w.cap), array_agg(l.key), array_agg(l.fresh),
         array_agg(case when l.ends_at <= now_ms then w.win else l.ends_at - now_ms end)
    into locked, fits, ks, ps, rs
    from (select b.key, b.ends_at, case when b.ends_at <= now_ms then 0 else b.points end as fresh
            from mcp_budget_windows b where b.key = any (p_keys) order by b.key desc for update) as l
    join unnest(p_keys, p_costs, p_caps, p_windows_ms) as w(k, cost, cap, win) on w.k = l.key;
  -- A bucket that does not exist yet (a new token or person, or one swept away): no rows. The
  -- caller creates the buckets in a statement of its own, holding no lock, and asks again; creating
  -- them here, while holding locks, could deadlock with another call doing the same.
  if locked < cardinality(p_keys) then
    return;
  end if;
  if fits then
    return query
      update mcp_budget_windows b
         set points = case when b.ends_at <= now_ms then w.cost else b.points + w.cost end,
             ends_at = case when b.ends_at <= now_ms then now_ms + w.win else b.ends_at end
        from unnest(p_keys, p_costs, p_windows_ms) as w(k, cost, win)
       where b.key = w.k
      returning b.key, b.points, b.ends_at - now_ms, true;
  else
    return query select r.k, r.p, r.ms, false from unnest(ks, ps, rs) as r(k, p, ms);
  end if;
end $$;
revoke execute on function app.spend_budgets(text[], integer[], integer[], bigint[]) from public;
grant execute on function app.spend_budgets(text[], integer[], integer[], bigint[]) to commerce_app;

-- Ended windows are removed now and then (src/ratelimit/windows.ts), never on the hot path, skipping
-- rows a call holds.
