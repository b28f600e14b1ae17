-- The request context read by every row-level security policy (PRODUCT.md §3).
-- Set only by src/db/context.ts (setRequestContext) with set_config(..., true): transaction-local,
-- so a pooled connection never carries one request's identity into the next. Unset means NULL,
-- and every policy compares with "=", so no context sees zero rows.
create schema if not exists app;
revoke all on schema app from public;
revoke create on schema public from public;

create function app.tenant_id() returns uuid language sql stable parallel safe
  as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- 'customer' | 'staff' | 'auth' (the authorization server and the resource servers' token check)
create function app.actor() returns text language sql stable parallel safe
  as $$ select nullif(current_setting('app.actor', true), '') $$;

create function app.customer_id() returns uuid language sql stable parallel safe
  as $$ select case when app.actor() = 'customer' then nullif(current_setting('app.subject_id', true), '')::uuid end $$;

create function app.staff_id() returns uuid language sql stable parallel safe
  as $$ select case when app.actor() = 'staff' then nullif(current_setting('app.subject_id', true), '')::uuid end $$;

-- The staff member's role, recorded in the context from their verified token.
create function app.staff_role() returns text language sql stable parallel safe
  as $$ select case when app.actor() = 'staff' then nullif(current_setting('app.staff_role', true), '') end $$;

create function app.is_staff() returns boolean language sql stable parallel safe
  as $$ select app.actor() = 'staff' and app.staff_id() is not null $$;

-- Owner-of-row test for customer-owned tables: staff of the tenant, or that very customer.
create function app.may_see_customer(row_customer uuid) returns boolean language sql stable parallel safe
  as $$ select app.is_staff() or (app.actor() = 'customer' and row_customer = app.customer_id()) $$;
