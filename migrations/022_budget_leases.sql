-- Leased slices of the shared MCP call budgets (docs/HOT-PATH.md "Budgets: leased slices"; catalogue
-- A9, A10, F5). Instead of charging every call in the shared store (one statement per call, on rows
-- every call of a tenant updates), an instance leases a slice of each budget and spends it in its
-- own memory; it comes back for more when a slice runs out. A budget's row now counts the points
-- leased in its window: the points every instance accepted plus those they still hold. The total
-- leased never exceeds the window's cap, so the calls accepted across all instances never do
-- either (exact, not approximate: a point is spent by at most one call of one instance, and a slice
-- dies with its window). Points an instance holds when it stops, or when a budget's cap changes,
-- are given back; a crash strands at most one slice per budget for the rest of the window.
--
-- For each budget i: key p_keys[i]; the call needs p_needs[i] more points than the instance holds;
-- it would like p_wants[i] (>= need) so that the next calls need no trip; the window allows
-- p_caps[i] points and lasts p_windows_ms[i]. All or nothing, as app.spend_budgets was (013): if
-- any budget cannot give its need, none gives anything. Otherwise each gives its need plus up to
-- (want - need), but never more than a quarter of what would be left after the need, so that the
-- last points of a window go in small slices and another instance is not left waiting on points a
-- first one holds. Returns per budget: points granted, points leased in the window after this
-- call, when the window ends (absolute, ms since the epoch by the database's clock, and ms from
-- now), and whether the call was granted; no rows at all when a bucket does not exist yet (the
-- caller creates it and asks again, as before).
create function app.lease_budgets(p_keys text[], p_needs integer[], p_wants integer[], p_caps integer[], p_windows_ms bigint[])
  returns table (budget_key text, granted integer, leased integer, ends_at bigint, resets_in_ms bigint, ok boolean)
  language plpgsql volatile security invoker set search_path = pg_catalog, public
as $$
declare
  now_ms bigint;
  locked integer;
  fits boolean;
begin
  now_ms := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  -- The buckets locked in one order (descending, as in 013: the tenant's bucket last), checked in
  -- the same statement.
  select count(*), bool_and(l.fresh + w.need <= w.cap)
    into locked, fits
    from (select b.key, case when b.ends_at <= now_ms then 0 else b.points end as fresh
            from mcp_budget_windows b where b.key = any (p_keys) order by b.key desc for update) as l
    join unnest(p_keys, p_needs, p_caps) as w(k, need, cap) on w.k = l.key;
  if locked < cardinality(p_keys) then
    return;
  end if;
  if fits then
    return query
      with g as (
        select b.key,
               case when b.ends_at <= now_ms then 0 else b.points end as fresh,
               case when b.ends_at <= now_ms then now_ms + w.win else b.ends_at end as ends,
               w.need, w.want, w.cap
          from mcp_budget_windows b
          join unnest(p_keys, p_needs, p_wants, p_caps, p_windows_ms) as w(k, need, want, cap, win) on w.k = b.key
      ), grant_of as (
        select g.key, g.ends, g.fresh,
               g.need + greatest(0, least(g.want - g.need, (g.cap - g.fresh - g.need) / 4)) as n
          from g
      )
      update mcp_budget_windows b
         set points = x.fresh + x.n, ends_at = x.ends
        from grant_of x
       where b.key = x.key
      returning b.key, x.n, b.points, b.ends_at, b.ends_at - now_ms, true;
  else
    return query
      select b.key, 0, case when b.ends_at <= now_ms then 0 else b.points end,
             b.ends_at, greatest(0, b.ends_at - now_ms), false
        from mcp_budget_windows b where b.key = any (p_keys);
  end if;
end $$;
revoke execute on function app.lease_budgets(text[], integer[], integer[], integer[], bigint[]) from public;
grant execute on function app.lease_budgets(text[], integer[], integer[], integer[], bigint[]) to commerce_app;

-- Points an instance holds unspent, given back to the window they were leased from (and only to
-- that window: a newer window owes nothing to an older one's slices).
create function app.return_budget_leases(p_keys text[], p_points integer[], p_ends_at bigint[])
  returns integer
  language sql volatile security invoker set search_path = pg_catalog, public
as $$
  with r as (
    update mcp_budget_windows b
       set points = greatest(0, b.points - w.points)
      from unnest(p_keys, p_points, p_ends_at) as w(k, points, ends) 
     where b.key = w.k and b.ends_at = w.ends
    returning 1)
  select count(*)::integer from r
$$;
revoke execute on function app.return_budget_leases(text[], integer[], bigint[]) from public;
grant execute on function app.return_budget_leases(text[], integer[], bigint[]) to commerce_app;

-- Calls are no longer charged one by one.
drop function app.spend_budgets(text[], integer[], integer[], bigint[]);
