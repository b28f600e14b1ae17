-- A cheaper audit entry, at insert and at sealing (docs/HOT-PATH.md "The audit entry"). Measured
-- under load (32 connections, one tenant), 021's design spent, per audited call: a PL/pgSQL
-- trigger call on insert (stamping position, transaction and time, clearing the link fields), and
-- in the sealer a full new row version with an entry in every index, the unique (tenant_id, seq)
-- and partial "unsealed" indexes among them — both written at their right edge by every request's
-- insert and by the sealer at once. Together ≈ 0.5 ms of PostgreSQL per call. Now:
-- - pos, xid and at are column defaults (no function call per row). The application role may insert
--   only an entry's own columns: pos, xid, at, seq, prev_hash and hash are not granted to it, so it
--   can neither forge a link nor choose an entry's place, transaction or time ("permission
--   denied"). An owner's insert naming a link field still has the links cleared, by a trigger whose
--   WHEN clause is checked without calling it.
-- - Unsealed entries are found through a queue, audit_unsealed (tenant, position), written in the
--   same flight and transaction as the entry (src/audit/record.ts) and emptied by the sealer in the
--   transaction that links them: a queue row exists exactly when its entry is committed, so the
--   sealer needs no snapshot horizon (021 waited for the oldest transaction of the whole cluster,
--   which any long transaction, in any database, held back). An entry whose transaction commits
--   late is appended when it does: the chain is in the order entries were sealed. An entry left out
--   of the queue (only a changed service could do that) stays unsealed, and `audit verify` counts it.
-- - No index names a link column any more (the one sealer, under its advisory lock, gives seq from
--   the tenant's head; `audit verify` reports a repeated or missing seq as a gap), and the unique
--   (tenant_id, id) goes (ids are random UUIDs, unused as keys): the sealing update writes no index
--   but the primary key's, or none when it stays on its page (HOT; pages keep a fifth free).
-- - The action-history index orders by pos (as its query does) and holds only entries that name an
--   action: tool calls, the bulk of the log, no longer enter it.
alter table audit_events
  alter column pos set default nextval('audit_events_pos'),
  alter column xid set default pg_current_xact_id(),
  alter column at set default clock_timestamp();
alter table audit_events set (fillfactor = 80);

drop trigger audit_chain on audit_events;
drop function app.audit_chain();
create function app.audit_clear_links() returns trigger language plpgsql as $$
begin
  new.seq := null;
  new.prev_hash := null;
  new.hash := null;
  return new;
end $$;
create trigger audit_clear_links before insert on audit_events for each row
  when (new.seq is not null or new.prev_hash is not null or new.hash is not null)
  execute function app.audit_clear_links();

revoke insert on audit_events from commerce_app;
grant insert (tenant_id, id, request_id, actor_kind, actor_id, client_id, token_id, event, tool, arguments, outcome, latency_ms, detail)
  on audit_events to commerce_app;

create table audit_unsealed (
  tenant_id uuid not null,
  pos bigint not null,
  queued_at timestamptz not null default clock_timestamp(),
  primary key (tenant_id, pos)
);
alter table audit_unsealed enable row level security;
alter table audit_unsealed force row level security;
create policy audit_unsealed_append on audit_unsealed for insert
  with check (tenant_id = app.tenant_id() and app.actor() is not null);
-- Read like the log itself (staff and the auth step of the tenant), so nothing more is visible here.
create policy audit_unsealed_read on audit_unsealed for select
  using (tenant_id = app.tenant_id() and app.actor() in ('staff', 'auth'));
do $$ begin
  execute format('create policy owner_maintenance on audit_unsealed to %I using (true) with check (true)', current_user);
end $$;
grant select, insert on audit_unsealed to commerce_app;
insert into audit_unsealed (tenant_id, pos) select tenant_id, pos from audit_events where seq is null;

drop index audit_events_unsealed;
alter table audit_events drop constraint audit_events_tenant_seq;
alter table audit_events drop constraint audit_events_tenant_id_id_key;
drop index audit_events_by_action;
create index audit_events_by_action on audit_events (tenant_id, (detail->>'action_id'), pos) where (detail->>'action_id') is not null;

-- The committed entries of the queue, per tenant in pos order from its head; the queue rows go in
-- the transaction that links them. The service's sealer passes min_age_ms (a second): entries queued
-- less than that ago wait for the next round, so that the sealing update does not fight the
-- requests' inserts for the newest heap and index pages (measured: that contention, not the update
-- itself, was most of its cost). `audit verify`, a clean shutdown and the tests seal everything (0).
drop function app.audit_seal(int);
create function app.audit_seal(max_rows int default 5000, min_age_ms int default 0) returns int
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  ts uuid[];
  ps bigint[];
  t uuid;
  e audit_events;
  head_seq bigint;
  head_hash text;
  n int := 0;
begin
  if not pg_try_advisory_xact_lock(21, 1) then return 0; end if;
  with taken as (
    delete from audit_unsealed q using (
      select u.tenant_id, u.pos from audit_unsealed u
       where u.queued_at <= clock_timestamp() - make_interval(secs => min_age_ms / 1000.0)
       order by u.pos limit max_rows) b
     where q.tenant_id = b.tenant_id and q.pos = b.pos
    returning q.tenant_id, q.pos)
  select array_agg(taken.tenant_id), array_agg(taken.pos) into ts, ps from taken;
  if ps is null then return 0; end if;
  for t in select distinct u.tid from unnest(ts) as u(tid) loop
    insert into audit_chain_heads (tenant_id, seq, hash) values (t, 0, repeat('0', 64)) on conflict (tenant_id) do nothing;
    select h.seq, h.hash into head_seq, head_hash from audit_chain_heads h where h.tenant_id = t for update;
    for e in select a.* from audit_events a
              where a.tenant_id = t and a.seq is null and a.pos = any (array(select u.p from unnest(ts, ps) as u(tid, p) where u.tid = t))
              order by a.pos loop
      e.seq := head_seq + 1;
      e.prev_hash := head_hash;
      e.hash := app.audit_hash(e);
      update audit_events set seq = e.seq, prev_hash = e.prev_hash, hash = e.hash where tenant_id = t and pos = e.pos;
      head_seq := e.seq;
      head_hash := e.hash;
      n := n + 1;
    end loop;
    update audit_chain_heads set seq = head_seq, hash = head_hash where tenant_id = t;
  end loop;
  return n;
end $$;
revoke execute on function app.audit_seal(int, int) from public;
grant execute on function app.audit_seal(int, int) to commerce_app;
