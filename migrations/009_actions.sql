-- Human in the loop (PRODUCT.md §1, issue 5): the approval console's sessions, and the indexes that
-- make the action engine's duplicate detection cheap and race-free (A5).

-- A signed-in staff member of the approval console. Only the SHA-256 of the session token is kept;
-- the raw token lives in an HttpOnly, SameSite=Strict cookie. Looked up in the 'auth' context (the
-- cookie arrives before anyone is known), then the request switches to that staff member's context.
create table console_sessions (
  tenant_id uuid not null references tenants(id),
  token_hash text not null,
  staff_id uuid not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  primary key (tenant_id, token_hash),
  foreign key (tenant_id, staff_id) references staff(tenant_id, id)
);
create index console_sessions_expiry on console_sessions (tenant_id, expires_at);

alter table console_sessions enable row level security;
alter table console_sessions force row level security;
create policy console_sessions_auth on console_sessions for all
  using (tenant_id = app.tenant_id() and app.actor() = 'auth')
  with check (tenant_id = app.tenant_id() and app.actor() = 'auth');
create policy console_sessions_own on console_sessions for all
  using (tenant_id = app.tenant_id() and app.is_staff() and staff_id = app.staff_id())
  with check (tenant_id = app.tenant_id() and app.is_staff() and staff_id = app.staff_id());

grant select, insert, update (revoked_at), delete on console_sessions to commerce_app;

-- At most one open (pending) action per tenant, tool and exact arguments: two identical requests
-- that race collapse into one record (jsonb's text form is canonical: key order does not matter).
create unique index pending_actions_one_open on pending_actions (tenant_id, tool, md5(arguments::text))
  where status = 'pending';
-- Finds a recent identical executed action (the engine's duplicate window).
create index pending_actions_by_arguments on pending_actions (tenant_id, tool, md5(arguments::text), created_at desc);
-- Console history and status look-ups, newest first.
create index pending_actions_recent on pending_actions (tenant_id, created_at desc);

-- The owner role maintains every tenant's rows (same rule as the end of 005_policies.sql).
do $$
begin
  execute format('create policy owner_maintenance on console_sessions to %I using (true) with check (true)', current_user);
end $$;
