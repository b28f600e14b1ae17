-- Row-level security for every table (R2), then grants to the application role (R1: it owns nothing).
-- Each policy compares with app.tenant_id() etc.; with no context those are NULL and nothing matches.

-- tenants: a public directory (slug, name) readable by anyone; written only by the owner (admin CLI).
alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenants_directory on tenants for select using (true);

-- Tenant-shared catalogue and operations data: read by the tenant's customers and staff, written by staff.
do $$
declare t text;
begin
  foreach t in array array['products', 'product_prices', 'warehouses', 'stock_levels', 'carriers'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy %I on %I for select
      using (tenant_id = app.tenant_id() and app.actor() in ('customer', 'staff'))$p$, t || '_read', t);
    execute format($p$create policy %I on %I for all
      using (tenant_id = app.tenant_id() and app.is_staff())
      with check (tenant_id = app.tenant_id() and app.is_staff())$p$, t || '_staff_write', t);
  end loop;
end $$;

-- Placing an order reserves stock: a customer may update stock rows of their own tenant.
create policy stock_levels_reserve on stock_levels for update
  using (tenant_id = app.tenant_id() and app.actor() = 'customer' and app.customer_id() is not null)
  with check (tenant_id = app.tenant_id());

-- Settings (phase, guardrails, returns policy): read by anyone in the tenant; written by tenant admins.
alter table tenant_settings enable row level security;
alter table tenant_settings force row level security;
create policy tenant_settings_read on tenant_settings for select
  using (tenant_id = app.tenant_id() and app.actor() is not null);
create policy tenant_settings_admin on tenant_settings for update
  using (tenant_id = app.tenant_id() and app.staff_role() = 'tenant_admin')
  with check (tenant_id = app.tenant_id() and app.staff_role() = 'tenant_admin');

-- Customer-owned rows: the customer themself, or staff of the tenant.
do $$
declare t text;
begin
  foreach t in array array['orders', 'order_lines', 'shipments', 'returns', 'return_lines', 'payments',
                           'refunds', 'carts', 'cart_items'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy %I on %I for all
      using (tenant_id = app.tenant_id() and app.may_see_customer(customer_id))
      with check (tenant_id = app.tenant_id() and app.may_see_customer(customer_id))$p$, t || '_owner', t);
  end loop;
end $$;

-- customers: the customer sees their own row; staff and the sign-in step see the tenant's.
alter table customers enable row level security;
alter table customers force row level security;
create policy customers_read on customers for select
  using (tenant_id = app.tenant_id() and (app.actor() in ('staff', 'auth') or id = app.customer_id()));
create policy customers_staff_write on customers for all
  using (tenant_id = app.tenant_id() and app.is_staff())
  with check (tenant_id = app.tenant_id() and app.is_staff());

-- staff: visible to staff of the tenant and to the sign-in step.
alter table staff enable row level security;
alter table staff force row level security;
create policy staff_read on staff for select
  using (tenant_id = app.tenant_id() and app.actor() in ('staff', 'auth'));
create policy staff_admin_write on staff for all
  using (tenant_id = app.tenant_id() and app.staff_role() = 'tenant_admin')
  with check (tenant_id = app.tenant_id() and app.staff_role() = 'tenant_admin');

-- Staff-only operations data.
do $$
declare t text;
begin
  foreach t in array array['suppliers', 'purchase_orders', 'drivers', 'damage_claims', 'settlements',
                           'pending_actions'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy %I on %I for all
      using (tenant_id = app.tenant_id() and app.is_staff())
      with check (tenant_id = app.tenant_id() and app.is_staff())$p$, t || '_staff', t);
  end loop;
end $$;

-- A customer sees the driver of one of their own shipments (position/ETA), nothing else: the
-- subquery itself runs under the shipments policy.
create policy drivers_of_my_shipments on drivers for select
  using (tenant_id = app.tenant_id() and app.actor() = 'customer' and exists (
    select 1 from shipments s where s.tenant_id = drivers.tenant_id and s.driver_id = drivers.id));

-- Per-tenant counters: anyone acting in the tenant draws numbers.
alter table tenant_counters enable row level security;
alter table tenant_counters force row level security;
create policy tenant_counters_tenant on tenant_counters for all
  using (tenant_id = app.tenant_id() and app.actor() in ('customer', 'staff'))
  with check (tenant_id = app.tenant_id() and app.actor() in ('customer', 'staff'));

-- Idempotency keys belong to one subject.
alter table idempotency_keys enable row level security;
alter table idempotency_keys force row level security;
create policy idempotency_keys_subject on idempotency_keys for all
  using (tenant_id = app.tenant_id() and subject = app.actor() || ':' || coalesce(app.customer_id(), app.staff_id())::text)
  with check (tenant_id = app.tenant_id() and subject = app.actor() || ':' || coalesce(app.customer_id(), app.staff_id())::text);

-- Audit: anyone acting in the tenant appends; staff and the auth step read; nobody updates or deletes.
alter table audit_events enable row level security;
alter table audit_events force row level security;
create policy audit_events_append on audit_events for insert
  with check (tenant_id = app.tenant_id() and app.actor() is not null);
create policy audit_events_read on audit_events for select
  using (tenant_id = app.tenant_id() and app.actor() in ('staff', 'auth'));
alter table audit_chain_heads enable row level security;
alter table audit_chain_heads force row level security;
create policy audit_chain_heads_tenant on audit_chain_heads for all
  using (tenant_id = app.tenant_id() and app.actor() is not null)
  with check (tenant_id = app.tenant_id() and app.actor() is not null);

-- The authorization server's tables: only in the 'auth' context (sign-in, token endpoint, and the
-- resource servers' token check), and only the tenant's own rows.
do $$
declare t text;
begin
  foreach t in array array['oauth_clients', 'oauth_interactions', 'oauth_token_families',
                           'oauth_authorization_codes', 'oauth_access_tokens', 'oauth_refresh_tokens',
                           'oauth_consents'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy %I on %I for all
      using (tenant_id = app.tenant_id() and app.actor() = 'auth')
      with check (tenant_id = app.tenant_id() and app.actor() = 'auth')$p$, t || '_auth', t);
  end loop;
end $$;

-- Grants. The application role owns nothing and gets only what it needs.
grant usage on schema app to commerce_app;
grant usage on schema public to commerce_app;
grant execute on all functions in schema app to commerce_app;
grant select on tenants to commerce_app;
grant select, update (phase, guardrails, self_approval_limit_cents, return_window_days,
  non_returnable_categories, returns_policy_text, rate_limits, updated_at) on tenant_settings to commerce_app;
grant select, insert, update, delete on
  staff, customers, products, product_prices, warehouses, stock_levels, suppliers, purchase_orders,
  orders, order_lines, carriers, drivers, shipments, returns, return_lines, damage_claims, payments,
  refunds, settlements, carts, cart_items, tenant_counters, idempotency_keys, pending_actions,
  oauth_clients, oauth_interactions, oauth_token_families, oauth_authorization_codes,
  oauth_access_tokens, oauth_refresh_tokens, oauth_consents
  to commerce_app;
grant select, insert on audit_events to commerce_app;
grant select, insert, update on audit_chain_heads to commerce_app;
revoke execute on all functions in schema app from public;
grant execute on all functions in schema app to commerce_app;

-- The owner role (whoever runs migrations: seed, admin command line) maintains every tenant's rows.
-- Forced RLS applies to owners too, so it gets an explicit policy naming it, and only it.
do $$
declare t text;
begin
  for t in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity loop
    execute format('create policy owner_maintenance on %I to %I using (true) with check (true)', t, current_user);
  end loop;
end $$;
