-- Identity federation per tenant (issue 13): upstream OpenID Connect providers for the tenant's
-- customers and staff, the enterprise IdP whose ID-JAGs (RFC 7523 JWT bearer grant) the token
-- endpoint accepts, the links between upstream identities and local accounts, the state of an
-- upstream sign-in in flight, and the ID-JAG `jti`s already used.

-- One provider per (tenant, audience). The upstream client secret is stored encrypted
-- (AES-256-GCM, key outside the database: FEDERATION_SECRET_KEY or DATA_DIR/federation-secret-key);
-- it is never read back out through the admin command or the console.
create table tenant_identity_providers (
  tenant_id uuid not null references tenants(id),
  audience text not null check (audience in ('customer', 'staff', 'enterprise')),
  issuer text not null check (issuer ~ '^https?://' and length(issuer) <= 500),
  display_name text not null default '' check (length(display_name) <= 100),
  -- customer, staff: an OpenID Connect client of ours at the upstream
  client_id text check (length(client_id) <= 500),
  client_secret_encrypted text,
  scopes text not null default 'openid email profile' check (length(scopes) <= 500),
  email_claim text not null default 'email' check (email_claim ~ '^[A-Za-z0-9_:.-]{1,100}$'),
  -- staff, enterprise: the claim holding groups/roles and which group gives which local role
  roles_claim text check (roles_claim ~ '^[A-Za-z0-9_:.-]{1,100}$'),
  role_mapping jsonb not null default '{}' check (jsonb_typeof(role_mapping) = 'object'),
  -- customer, staff: create the local account on first sign-in
  allow_create boolean not null default false,
  -- whether the tenant's own passwords stay offered beside the upstream (off: straight to it)
  passwords_enabled boolean not null default true,
  -- enterprise: the IdP's keys (a JWKS URI, or an inline JWKS), the clients whose ID-JAGs we accept,
  -- and how a subject maps to a staff member ('sub' via links, or the 'email' claim)
  jwks_uri text check (jwks_uri ~ '^https?://' and length(jwks_uri) <= 1000),
  jwks jsonb check (jwks is null or jsonb_typeof(jwks -> 'keys') = 'array'),
  allowed_client_ids text[] not null default '{}',
  subject_claim text not null default 'sub' check (subject_claim in ('sub', 'email')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, audience),
  check (audience = 'enterprise' or (client_id is not null)),
  check (audience <> 'enterprise' or jwks_uri is not null or jwks is not null)
);

-- An upstream identity (issuer + sub) linked to one local account, per tenant: the same upstream
-- person in two tenants is two unrelated links (never across tenants).
create table upstream_identities (
  tenant_id uuid not null references tenants(id),
  audience text not null check (audience in ('customer', 'staff')),
  issuer text not null,
  subject text not null check (length(subject) <= 255),
  customer_id uuid,
  staff_id uuid,
  created_at timestamptz not null default now(),
  last_sign_in_at timestamptz not null default now(),
  primary key (tenant_id, audience, issuer, subject),
  foreign key (tenant_id, customer_id) references customers (tenant_id, id),
  foreign key (tenant_id, staff_id) references staff (tenant_id, id),
  check ((audience = 'customer') = (customer_id is not null) and (audience = 'staff') = (staff_id is not null))
);

-- An upstream sign-in between our redirect to the provider and its callback: the state (hashed),
-- the nonce and PKCE verifier, the browser binding (hash of a cookie), single use, 10 minutes.
create table upstream_sign_ins (
  tenant_id uuid not null references tenants(id),
  state_hash text not null,
  interaction_id uuid not null,
  audience text not null check (audience in ('customer', 'staff')),
  browser_hash text not null,
  nonce text not null,
  code_verifier text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  consumed_at timestamptz,
  primary key (tenant_id, state_hash),
  foreign key (tenant_id, interaction_id) references oauth_interactions (tenant_id, id) on delete cascade
);
create index upstream_sign_ins_expires on upstream_sign_ins (tenant_id, expires_at);

-- ID-JAG replay detection (ext-auth §6.4.2): a jti is refused again until its assertion expires.
create table id_jag_replays (
  tenant_id uuid not null references tenants(id),
  issuer text not null,
  jti text not null check (length(jti) <= 255),
  expires_at timestamptz not null,
  primary key (tenant_id, issuer, jti)
);
create index id_jag_replays_expires on id_jag_replays (tenant_id, expires_at);

do $$
declare t text;
begin
  foreach t in array array['tenant_identity_providers', 'upstream_identities', 'upstream_sign_ins', 'id_jag_replays'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy %I on %I for all
      using (tenant_id = app.tenant_id() and app.actor() = 'auth')
      with check (tenant_id = app.tenant_id() and app.actor() = 'auth')$p$, t || '_auth', t);
    execute format('create policy owner_maintenance on %I to %I using (true) with check (true)', t, current_user);
  end loop;
end $$;

-- The tenant's admins see and change their sign-in settings in the console.
create policy tenant_identity_providers_admin on tenant_identity_providers for all
  using (tenant_id = app.tenant_id() and app.staff_role() = 'tenant_admin')
  with check (tenant_id = app.tenant_id() and app.staff_role() = 'tenant_admin');

-- The sign-in step creates a customer on first upstream sign-in (when the tenant allows it), and
-- creates or updates a staff member whose role the upstream's role mapping decides.
create policy customers_auth_federation on customers for insert
  with check (tenant_id = app.tenant_id() and app.actor() = 'auth');
create policy staff_auth_federation_insert on staff for insert
  with check (tenant_id = app.tenant_id() and app.actor() = 'auth');
create policy staff_auth_federation_update on staff for update
  using (tenant_id = app.tenant_id() and app.actor() = 'auth')
  with check (tenant_id = app.tenant_id() and app.actor() = 'auth');

grant select, insert, update, delete on tenant_identity_providers to commerce_app;
grant select, insert, update (last_sign_in_at) on upstream_identities to commerce_app;
grant select, insert, update (consumed_at), delete on upstream_sign_ins to commerce_app;
grant select, insert, delete on id_jag_replays to commerce_app;
