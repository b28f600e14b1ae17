-- Tamper-evident audit (PRODUCT.md §5, R8): append-only, hash-chained per tenant. Each entry's hash
-- commits to the previous entry's hash and to every field of its own; the application role may
-- insert and read, never update or delete. A trigger (not SECURITY DEFINER) assigns seq and hashes.
create table audit_events (
  tenant_id uuid not null references tenants(id),
  seq bigint not null,
  id uuid not null default gen_random_uuid(),
  at timestamptz not null default clock_timestamp(),
  request_id text,
  actor_kind text not null,
  actor_id text,
  client_id text,
  token_id uuid,
  event text not null,
  tool text,
  arguments jsonb,
  outcome text not null,
  latency_ms int,
  detail jsonb,
  prev_hash text not null,
  hash text not null,
  primary key (tenant_id, seq),
  unique (tenant_id, id)
);

-- The newest entry of each tenant's chain; locked per insert so the chain stays linear.
create table audit_chain_heads (
  tenant_id uuid primary key references tenants(id),
  seq bigint not null,
  hash text not null
);

create function app.audit_hash(e audit_events) returns text language sql immutable
  as $$ select encode(sha256(convert_to(concat_ws(chr(31),
      e.tenant_id::text, e.seq::text, e.id::text,
      to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
      coalesce(e.request_id, ''), e.actor_kind, coalesce(e.actor_id, ''), coalesce(e.client_id, ''),
      coalesce(e.token_id::text, ''), e.event, coalesce(e.tool, ''), coalesce(e.arguments::text, ''),
      e.outcome, coalesce(e.latency_ms::text, ''), coalesce(e.detail::text, ''), e.prev_hash), 'UTF8')), 'hex') $$;

create function app.audit_chain() returns trigger language plpgsql as $$
declare head audit_chain_heads;
begin
  insert into audit_chain_heads (tenant_id, seq, hash) values (new.tenant_id, 0, repeat('0', 64))
    on conflict (tenant_id) do nothing;
  select * into head from audit_chain_heads where tenant_id = new.tenant_id for update;
  new.seq := head.seq + 1;
  new.prev_hash := head.hash;
  new.at := clock_timestamp();
  new.hash := app.audit_hash(new);
  update audit_chain_heads set seq = new.seq, hash = new.hash where tenant_id = new.tenant_id;
  return new;
end $$;

create trigger audit_chain before insert on audit_events for each row execute function app.audit_chain();
