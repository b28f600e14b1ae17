-- The authorization server's state (PRODUCT.md §2). Per tenant: each tenant is its own issuer.
-- Codes, tokens and client secrets are stored only as SHA-256 hashes of high-entropy values.

create table oauth_clients (
  tenant_id uuid not null references tenants(id),
  client_id text not null,
  client_secret_hash text, -- null for public clients
  name text not null,
  redirect_uris text[] not null default '{}',
  grant_types text[] not null default '{authorization_code,refresh_token}',
  token_endpoint_auth_method text not null default 'none'
    check (token_endpoint_auth_method in ('none', 'client_secret_basic', 'client_secret_post')),
  -- who may use it: 'customer' (customer endpoint), 'staff' (internal endpoint),
  -- 'service' (client_credentials), 'resource_server' (introspection)
  audience text not null default 'customer' check (audience in ('customer', 'staff', 'any', 'service', 'resource_server')),
  source text not null check (source in ('preregistered', 'dynamic', 'metadata_document')),
  scope text not null default '',
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz, -- unused dynamic registrations expire
  disabled_at timestamptz,
  primary key (tenant_id, client_id)
);

-- An authorization request between its arrival and the code: login, then consent.
create table oauth_interactions (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  client_id text not null,
  request jsonb not null, -- validated authorization request parameters
  csrf_hash text not null,
  subject_kind text check (subject_kind in ('customer', 'staff')),
  subject_id uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  completed_at timestamptz,
  primary key (tenant_id, id)
);

-- All tokens descending from one authorization code. Revoking the family revokes them all (O5, O6).
create table oauth_token_families (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  client_id text not null,
  subject_kind text not null check (subject_kind in ('customer', 'staff', 'service')),
  subject_id uuid,
  resource text not null,
  scope text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  revoked_reason text,
  primary key (tenant_id, id)
);

create table oauth_authorization_codes (
  tenant_id uuid not null references tenants(id),
  code_hash text not null,
  client_id text not null,
  subject_kind text not null check (subject_kind in ('customer', 'staff')),
  subject_id uuid not null,
  redirect_uri text not null,
  code_challenge text not null,
  resource text not null,
  scope text not null,
  family_id uuid not null default gen_random_uuid(),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  consumed_at timestamptz,
  primary key (tenant_id, code_hash)
);

create table oauth_access_tokens (
  tenant_id uuid not null references tenants(id),
  token_hash text not null,
  id uuid not null default gen_random_uuid(),
  family_id uuid,
  client_id text not null,
  subject_kind text not null check (subject_kind in ('customer', 'staff', 'service')),
  subject_id uuid,
  resource text not null, -- exactly one MCP endpoint of this tenant (RFC 8707)
  scope text not null,
  issued_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  primary key (tenant_id, token_hash),
  unique (tenant_id, id)
);
create index oauth_access_tokens_family on oauth_access_tokens (tenant_id, family_id);
create index oauth_access_tokens_subject on oauth_access_tokens (tenant_id, subject_kind, subject_id);

create table oauth_refresh_tokens (
  tenant_id uuid not null references tenants(id),
  token_hash text not null,
  id uuid not null default gen_random_uuid(),
  family_id uuid not null,
  client_id text not null,
  scope text not null,
  issued_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz, -- rotated: a second use is a replay (O6)
  revoked_at timestamptz,
  primary key (tenant_id, token_hash),
  unique (tenant_id, id)
);
create index oauth_refresh_tokens_family on oauth_refresh_tokens (tenant_id, family_id);

-- Remembered consent, per (user, client, resource, scope set) (M2).
create table oauth_consents (
  tenant_id uuid not null references tenants(id),
  subject_kind text not null check (subject_kind in ('customer', 'staff')),
  subject_id uuid not null,
  client_id text not null,
  resource text not null,
  scope text not null, -- space-separated, sorted
  granted_at timestamptz not null default now(),
  primary key (tenant_id, subject_kind, subject_id, client_id, resource, scope)
);
