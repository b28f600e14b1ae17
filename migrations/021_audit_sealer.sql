-- The audit chain off the request's lock path (docs/HOT-PATH.md). A request inserts its entry
-- unlinked, in the same transaction as the effect: the trigger stamps a global position (pos, from
-- a sequence) and the inserting transaction's id (xid), and nothing else — no chain-head lock, no
-- per-tenant hot row. A single sealer (app.audit_seal, one at a time by an advisory lock) links the
-- committed entries shortly after: it takes every unsealed entry whose transaction is older than
-- the oldest transaction still running (so none can still commit below it), in pos order, and
-- gives each its tenant's next seq, prev_hash and hash. A crash loses no committed entry's place:
-- an unsealed row stays unsealed until a sealer reaches it; `audit verify` counts them.
create sequence audit_events_pos;
grant usage on sequence audit_events_pos to commerce_app;

alter table audit_events drop constraint audit_events_pkey;
alter table audit_events
  add column pos bigint,
  add column xid xid8,
  alter column seq drop not null,
  alter column prev_hash drop not null,
  alter column hash drop not null;

-- Entries written before this migration are sealed already; they get positions in chain order.
with ordered as (select tenant_id, seq, row_number() over (order by tenant_id, seq) as n from audit_events)
update audit_events e set pos = o.n, xid = '0'::xid8 from ordered o where e.tenant_id = o.tenant_id and e.seq = o.seq;
select setval('audit_events_pos', coalesce((select max(pos) from audit_events), 0) + 1, false);

alter table audit_events
  alter column pos set not null,
  alter column xid set not null,
  add primary key (tenant_id, pos),
  add constraint audit_events_tenant_seq unique (tenant_id, seq),
  -- Sealed means all three link fields, or none.
  add constraint audit_events_sealed check ((seq is null) = (hash is null) and (seq is null) = (prev_hash is null));
create index audit_events_unsealed on audit_events (pos) where seq is null;

-- Insert: position, transaction and time stamped here; whatever the inserter put in the link fields is dropped.
create or replace function app.audit_chain() returns trigger language plpgsql as $$
begin
  new.pos := nextval('audit_events_pos');
  new.xid := pg_current_xact_id();
  new.at := clock_timestamp();
  new.seq := null;
  new.prev_hash := null;
  new.hash := null;
  return new;
end $$;

-- Links up to max_rows committed unsealed entries; returns how many (0 when another sealer runs).
-- Security definer (owned by the owner, whose owner_maintenance policy covers every tenant), so
-- the service's application role can run it without being able to update audit_events itself.
create function app.audit_seal(max_rows int default 5000) returns int
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  horizon xid8;
  upto bigint;
  t uuid;
  e audit_events;
  head_seq bigint;
  head_hash text;
  n int := 0;
begin
  if not pg_try_advisory_xact_lock(21, 1) then return 0; end if;
  -- Every transaction with an id below the horizon has ended: its entries are visible now or never.
  horizon := pg_snapshot_xmin(pg_current_snapshot());
  select max(pos) into upto from (
    select pos from audit_events where seq is null and xid < horizon order by pos limit max_rows) b;
  if upto is null then return 0; end if;
  for t in select distinct tenant_id from audit_events where seq is null and xid < horizon and pos <= upto loop
    insert into audit_chain_heads (tenant_id, seq, hash) values (t, 0, repeat('0', 64)) on conflict (tenant_id) do nothing;
    select h.seq, h.hash into head_seq, head_hash from audit_chain_heads h where h.tenant_id = t for update;
    for e in select * from audit_events where tenant_id = t and seq is null and xid < horizon and pos <= upto order by pos loop
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
revoke execute on function app.audit_seal(int) from public;
grant execute on function app.audit_seal(int) to commerce_app;

-- Only the sealer writes chain heads now.
revoke insert, update on audit_chain_heads from commerce_app;
