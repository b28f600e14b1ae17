-- Operations. The metrics endpoint reports how many actions wait for approval per tenant; the
-- application role sees no rows without a tenant context, so this count comes from the one reviewed
-- SECURITY DEFINER function (R4 allowlist): it returns counts only, has a fixed search_path, and only
-- the application role may execute it.
create function app.pending_approval_counts() returns table (tenant text, pending bigint)
  language sql stable security definer set search_path = pg_catalog, public
  as $$ select t.slug, count(a.id) from tenants t
        left join pending_actions a on a.tenant_id = t.id and a.status = 'pending' and a.expires_at > now()
        group by t.slug $$;
revoke execute on function app.pending_approval_counts() from public;
grant execute on function app.pending_approval_counts() to commerce_app;
