-- Issue 12 items 3–5: carrier events in, webhooks out, competitor prices for the analytics tools.
-- docs/WEBHOOKS.md describes the protocols; migrations/README.md every table.
--
-- A new request context, actor 'system': the platform acting for one tenant on its own account —
-- a carrier event whose signature verified (src/webhooks/carrier-events.ts) and the webhook
-- delivery worker (src/webhooks/worker.ts). It is set by setRequestContext like any other and
-- sees only the rows these policies name.

-- Carriers are addressed in URLs by a slug derived from their name ("DHL Express" → dhl-express).
alter table carriers add column slug text generated always as
  (trim(both '-' from regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'))) stored;
alter table carriers add constraint carriers_tenant_slug unique (tenant_id, slug);

-- When the last carrier event moved the shipment: older events arriving late do not move it back.
alter table shipments add column carrier_event_at timestamptz;

-- Competitor price observations. The ingestion work (migration 016) defines the same table: whichever
-- runs first creates it, so everything about it here is "if not exists".
create table if not exists competitor_price_observations (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  product_id uuid not null,
  competitor text not null check (length(competitor) between 1 and 100),
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  observed_at timestamptz not null,
  external_id text,
  primary key (tenant_id, id),
  unique (tenant_id, external_id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);
create index if not exists competitor_prices_latest on competitor_price_observations (tenant_id, product_id, competitor, observed_at desc);

-- The HMAC secret of one carrier of one tenant, sealed (AES-256-GCM, src/webhooks/secret-box.ts):
-- it must be usable to verify, so it cannot be a hash; the key is outside the database.
create table carrier_webhook_secrets (
  tenant_id uuid not null,
  carrier_id uuid not null,
  secret_sealed text not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, carrier_id),
  foreign key (tenant_id, carrier_id) references carriers(tenant_id, id)
);

-- Replay protection: every accepted carrier event id, kept until well after the timestamp
-- tolerance has passed (an older replay is refused by its timestamp).
create table carrier_event_receipts (
  tenant_id uuid not null,
  carrier_id uuid not null,
  event_id text not null check (length(event_id) between 1 and 200),
  event_type text not null,
  shipment_id uuid,
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (tenant_id, carrier_id, event_id),
  foreign key (tenant_id, carrier_id) references carriers(tenant_id, id),
  foreign key (tenant_id, shipment_id) references shipments(tenant_id, id)
);
create index carrier_event_receipts_expiry on carrier_event_receipts (expires_at);

-- Outgoing webhooks: subscriptions (URL, events, sealed whsec_ secret), the outbox of events written
-- in the same transaction as their effect, and one delivery per event and subscription.
create table webhook_subscriptions (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  url text not null check (length(url) <= 2000),
  events text[] not null check (cardinality(events) > 0
    and events <@ array['action.pending', 'action.decided', 'return.requested', 'order.placed']),
  secret_sealed text not null,
  description text,
  created_at timestamptz not null default now(),
  disabled_at timestamptz,
  primary key (tenant_id, id)
);

create table webhook_events (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  type text not null check (type in ('action.pending', 'action.decided', 'return.requested', 'order.placed')),
  data jsonb not null,
  created_at timestamptz not null default now(),
  dispatched_at timestamptz,
  primary key (tenant_id, id)
);
create index webhook_events_undispatched on webhook_events (tenant_id, created_at) where dispatched_at is null;

create table webhook_deliveries (
  tenant_id uuid not null,
  event_id uuid not null,
  subscription_id uuid not null,
  -- The exact bytes signed and sent, fixed at dispatch: every retry sends the same message.
  body text not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_attempt_at timestamptz,
  last_status int,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, event_id, subscription_id),
  foreign key (tenant_id, event_id) references webhook_events(tenant_id, id),
  foreign key (tenant_id, subscription_id) references webhook_subscriptions(tenant_id, id) on delete cascade
);
create index webhook_deliveries_due on webhook_deliveries (tenant_id, next_attempt_at) where status = 'pending';

-- Policies.
do $$
declare t text;
begin
  foreach t in array array['competitor_price_observations', 'carrier_webhook_secrets', 'carrier_event_receipts',
                           'webhook_subscriptions', 'webhook_events', 'webhook_deliveries'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
  end loop;
end $$;

-- Competitor observations: staff read and write (the analytics tools, ingestion) — unless 016 gave
-- the table its policies already.
do $$
begin
  if not exists (select 1 from pg_policy where polrelid = 'competitor_price_observations'::regclass and polname <> 'owner_maintenance') then
    create policy competitor_price_observations_staff on competitor_price_observations for all
      using (tenant_id = app.tenant_id() and app.is_staff())
      with check (tenant_id = app.tenant_id() and app.is_staff());
  end if;
end $$;

-- Carrier secrets: written by the owner only (admin command line); read by the verified-event path.
create policy carrier_webhook_secrets_system on carrier_webhook_secrets for select
  using (tenant_id = app.tenant_id() and app.actor() = 'system');

-- Receipts: the system context records and prunes them; staff may read them.
create policy carrier_event_receipts_system on carrier_event_receipts for all
  using (tenant_id = app.tenant_id() and app.actor() = 'system')
  with check (tenant_id = app.tenant_id() and app.actor() = 'system');
create policy carrier_event_receipts_staff_read on carrier_event_receipts for select
  using (tenant_id = app.tenant_id() and app.is_staff());

-- A verified carrier event finds its carrier and shipment and moves the shipment.
create policy carriers_system_read on carriers for select
  using (tenant_id = app.tenant_id() and app.actor() = 'system');
create policy shipments_system on shipments for select
  using (tenant_id = app.tenant_id() and app.actor() = 'system');
create policy shipments_system_update on shipments for update
  using (tenant_id = app.tenant_id() and app.actor() = 'system')
  with check (tenant_id = app.tenant_id() and app.actor() = 'system');

-- Subscriptions: written by the owner (admin command line); read by the delivery worker.
create policy webhook_subscriptions_system on webhook_subscriptions for select
  using (tenant_id = app.tenant_id() and app.actor() = 'system');

-- The outbox: anyone acting in the tenant appends (an order placed by a customer, an action
-- requested by staff) — insert only, nobody but the worker reads it back.
create policy webhook_events_append on webhook_events for insert
  with check (tenant_id = app.tenant_id() and app.actor() in ('customer', 'staff', 'system'));
create policy webhook_events_system on webhook_events for select
  using (tenant_id = app.tenant_id() and app.actor() = 'system');
create policy webhook_events_system_update on webhook_events for update
  using (tenant_id = app.tenant_id() and app.actor() = 'system')
  with check (tenant_id = app.tenant_id() and app.actor() = 'system');
create policy webhook_events_system_prune on webhook_events for delete
  using (tenant_id = app.tenant_id() and app.actor() = 'system');
create policy webhook_deliveries_system on webhook_deliveries for all
  using (tenant_id = app.tenant_id() and app.actor() = 'system')
  with check (tenant_id = app.tenant_id() and app.actor() = 'system');

grant select, insert, update, delete on competitor_price_observations to commerce_app;
grant select on carrier_webhook_secrets, webhook_subscriptions to commerce_app;
grant select, insert, delete on carrier_event_receipts to commerce_app;
grant select, insert, update (dispatched_at), delete on webhook_events to commerce_app;
grant select, insert, update (status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at), delete
  on webhook_deliveries to commerce_app;

-- The owner maintains the new tables (admin command line, seed), as in 005_policies.sql.
do $$
declare t text;
begin
  foreach t in array array['competitor_price_observations', 'carrier_webhook_secrets', 'carrier_event_receipts',
                           'webhook_subscriptions', 'webhook_events', 'webhook_deliveries'] loop
    if not exists (select 1 from pg_policy where polrelid = t::regclass and polname = 'owner_maintenance') then
      execute format('create policy owner_maintenance on %I to %I using (true) with check (true)', t, current_user);
    end if;
  end loop;
end $$;
