-- What makes a presented access token active, in one place (docs/HOT-PATH.md "Flights"). Since 023
-- the conditions were written twice: in src/authz/tokens.ts findActiveAccessToken (introspection,
-- ingestion) and in app.enter_with_access_token (the MCP endpoints). app.active_access_token holds
-- them once and both use it: unknown, expired, revoked, from a revoked family, of a disabled client,
-- or of a disabled or missing subject — no row. A plain SQL function (SECURITY INVOKER, no SET
-- clause), so the planner inlines it: it runs with the caller's rights and RLS, in the caller's
-- context, exactly as the query it replaces.
create function app.active_access_token(p_tenant uuid, p_token_hash text)
  returns table (id uuid, client_id text, subject_kind text, subject_id uuid, staff_role text, resource text, scope text,
                 expires_at timestamptz, phase integer, rate_limits jsonb)
  language sql stable security invoker
as $$
  select a.id, a.client_id, a.subject_kind, a.subject_id, s.role::text, a.resource, a.scope, a.expires_at,
         coalesce(ts.phase, 1)::integer, coalesce(ts.rate_limits, '{}'::jsonb)
    from public.oauth_access_tokens a
    left join public.tenant_settings ts on ts.tenant_id = a.tenant_id
    join public.oauth_clients c on c.tenant_id = a.tenant_id and c.client_id = a.client_id and c.disabled_at is null
    left join public.oauth_token_families f on f.tenant_id = a.tenant_id and f.id = a.family_id
    left join public.staff s on a.subject_kind = 'staff' and s.tenant_id = a.tenant_id and s.id = a.subject_id
    left join public.customers cu on a.subject_kind = 'customer' and cu.tenant_id = a.tenant_id and cu.id = a.subject_id
   where a.tenant_id = p_tenant and a.token_hash = p_token_hash
     and a.revoked_at is null and a.expires_at > pg_catalog.now()
     and f.revoked_at is null
     and (a.subject_kind <> 'staff' or (s.id is not null and s.disabled_at is null))
     and (a.subject_kind <> 'customer' or (cu.id is not null and cu.disabled_at is null))
$$;
revoke execute on function app.active_access_token(uuid, text) from public;
grant execute on function app.active_access_token(uuid, text) to commerce_app;

-- 023's function, its lookup now app.active_access_token (the rest unchanged).
create or replace function app.enter_with_access_token(p_tenant uuid, p_token_hash text, p_resource text, p_subject_kind text, p_read_only boolean)
  returns table (id uuid, client_id text, subject_kind text, subject_id uuid, staff_role text, resource text, scope text,
                 expires_at timestamptz, phase integer, rate_limits jsonb)
  language plpgsql volatile security invoker set search_path = pg_catalog, public
as $$
declare
  t record;
begin
  perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.actor', 'auth', true),
          set_config('app.subject_id', '', true), set_config('app.staff_role', '', true);
  select * into t from app.active_access_token(p_tenant, p_token_hash) as x;
  if not found then
    return;
  end if;
  if t.resource = p_resource and t.subject_kind = p_subject_kind and t.subject_id is not null
     and (p_subject_kind <> 'staff' or t.staff_role is not null) and p_subject_kind in ('customer', 'staff') then
    perform set_config('app.actor', p_subject_kind, true), set_config('app.subject_id', t.subject_id::text, true),
            set_config('app.staff_role', coalesce(t.staff_role, ''), true);
    if p_read_only then
      perform set_config('synchronous_commit', 'off', true);
    end if;
  end if;
  return query select t.id, t.client_id, t.subject_kind, t.subject_id, t.staff_role, t.resource, t.scope, t.expires_at, t.phase, t.rate_limits;
end
$$;
