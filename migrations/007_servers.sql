-- Two-step confirmation of customer writes (start_return, place_order) when the client cannot be
-- asked through MCP elicitation (stateless Streamable HTTP: see src/servers/mcp/confirmation.ts).
-- The first call stores a single-use confirmation bound to (subject, tool, arguments hash) with a
-- short expiry; the second call consumes it. Stored in PostgreSQL, not in process memory, so any
-- instance can finish what another began (scale-out). Only the SHA-256 of the token is kept.
create table tool_confirmations (
  tenant_id uuid not null references tenants(id),
  token_hash text not null,
  subject text not null, -- 'customer:<uuid>' or 'staff:<uuid>', like idempotency_keys
  tool text not null,
  request_hash text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  primary key (tenant_id, token_hash)
);
create index tool_confirmations_expiry on tool_confirmations (tenant_id, expires_at);

alter table tool_confirmations enable row level security;
alter table tool_confirmations force row level security;
create policy tool_confirmations_subject on tool_confirmations for all
  using (tenant_id = app.tenant_id() and subject = app.actor() || ':' || coalesce(app.customer_id(), app.staff_id())::text)
  with check (tenant_id = app.tenant_id() and subject = app.actor() || ':' || coalesce(app.customer_id(), app.staff_id())::text);

grant select, insert, update, delete on tool_confirmations to commerce_app;

-- The owner role maintains every tenant's rows (same rule as the end of 005_policies.sql).
do $$
begin
  execute format('create policy owner_maintenance on tool_confirmations to %I using (true) with check (true)', current_user);
end $$;
