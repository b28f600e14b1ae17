-- In-band confirmations of the 2026-07-28 protocol revision (Multi Round-Trip Requests): the
-- requestState a server hands out is integrity-protected and carries its own expiry, but a state
-- must also be consumed at most once (MRTR §"Server Requirements": single use is enforced
-- server-side). One row per consumed state, inserted in the same transaction as the effect it
-- confirms: a second use of the same state meets the primary key and does nothing.
create table request_state_uses (
  tenant_id uuid not null references tenants(id),
  state_id uuid not null,
  subject text not null, -- 'customer:<uuid>' or 'staff:<uuid>', like idempotency_keys
  tool text not null,
  used_at timestamptz not null default now(),
  -- The state's own expiry: rows past it can be deleted (the state no longer verifies anyway).
  expires_at timestamptz not null,
  primary key (tenant_id, state_id)
);
create index request_state_uses_expiry on request_state_uses (tenant_id, expires_at);

alter table request_state_uses enable row level security;
alter table request_state_uses force row level security;
create policy request_state_uses_subject on request_state_uses for all
  using (tenant_id = app.tenant_id() and subject = app.actor() || ':' || coalesce(app.customer_id(), app.staff_id())::text)
  with check (tenant_id = app.tenant_id() and subject = app.actor() || ':' || coalesce(app.customer_id(), app.staff_id())::text);

grant select, insert, delete on request_state_uses to commerce_app;

do $$
begin
  execute format('create policy owner_maintenance on request_state_uses to %I using (true) with check (true)', current_user);
end $$;
