-- The resource servers' token check and context switch in one statement (docs/HOT-PATH.md
-- "Flights"). Before, a call sent set_config('auth'), the token lookup, and later set_config(subject)
-- and `set local synchronous_commit`: four statements. app.enter_with_access_token does all of it
-- in one, inside the caller's transaction:
--   1. enters the tenant's 'auth' context (transaction-local, as src/db/context.ts does);
--   2. looks the presented token's hash up exactly as src/authz/tokens.ts findActiveAccessToken
--      does (unknown, expired, revoked, revoked family, disabled client, disabled or missing
--      subject: no row) — on every call, no cache, so revocation holds on the next request;
--   3. only when that token is for exactly p_resource and a subject of kind p_subject_kind (a staff
--      subject with a role): enters that subject's context, and for a read-only call
--      (p_read_only) lets its commit skip the WAL flush (synchronous_commit off, transaction-local);
--      otherwise the context stays 'auth' and the caller refuses the call.
-- It returns the token's row (or none). The caller checks audience and subject again (defence in
-- depth) and decides; this function only saves the round trips. SECURITY INVOKER: it runs with the
-- application role's rights and RLS, and can set nothing the role could not set itself.
create function app.enter_with_access_token(p_tenant uuid, p_token_hash text, p_resource text, p_subject_kind text, p_read_only boolean)
  returns table (id uuid, client_id text, subject_kind text, subject_id uuid, staff_role text, resource text, scope text,
                 expires_at timestamptz, phase integer, rate_limits jsonb)
  language plpgsql volatile security invoker set search_path = pg_catalog, public
as $$
declare
  t record;
begin
  perform set_config('app.tenant_id', p_tenant::text, true), set_config('app.actor', 'auth', true),
          set_config('app.subject_id', '', true), set_config('app.staff_role', '', true);
  select a.id, a.client_id, a.subject_kind, a.subject_id, s.role::text as staff_role, a.resource, a.scope, a.expires_at,
         coalesce(ts.phase, 1)::integer as phase, coalesce(ts.rate_limits, '{}'::jsonb) as rate_limits
    into t
    from oauth_access_tokens a
    left join tenant_settings ts on ts.tenant_id = a.tenant_id
    join oauth_clients c on c.tenant_id = a.tenant_id and c.client_id = a.client_id and c.disabled_at is null
    left join oauth_token_families f on f.tenant_id = a.tenant_id and f.id = a.family_id
    left join staff s on a.subject_kind = 'staff' and s.tenant_id = a.tenant_id and s.id = a.subject_id
    left join customers cu on a.subject_kind = 'customer' and cu.tenant_id = a.tenant_id and cu.id = a.subject_id
   where a.tenant_id = p_tenant and a.token_hash = p_token_hash
     and a.revoked_at is null and a.expires_at > now()
     and f.revoked_at is null
     and (a.subject_kind <> 'staff' or (s.id is not null and s.disabled_at is null))
     and (a.subject_kind <> 'customer' or (cu.id is not null and cu.disabled_at is null));
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
revoke execute on function app.enter_with_access_token(uuid, text, text, text, boolean) from public;
grant execute on function app.enter_with_access_token(uuid, text, text, text, boolean) to commerce_app;
