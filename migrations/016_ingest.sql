-- Bring your own shop (issue 12, items 1 and 2): bulk ingestion by the tenant's own external ids.
--
-- 1. external_id on every table a shop uploads into, unique per tenant (R7: the key includes
--    tenant_id). NULL for rows made here (seed before 016, tools, the console); an upload may claim
--    such a row by its natural key (sku, email, number, ...), see src/ingest/kinds.ts.
-- 2. shipment_events: a shipment's tracking history (uploaded; carriers' webhooks may add to it).
-- 3. competitor_price_observations: prices seen at competitors, per product (analytics read them).
-- 4. The 'service' actor (app.actor() = 'service'): an OAuth service client acting for its tenant
--    (client credentials, scope ingest:write). It may write the uploaded tables of its own tenant,
--    nothing else; it reads no authorization tables and no staff.

do $$
declare t text;
begin
  foreach t in array array['products', 'product_prices', 'warehouses', 'customers', 'carriers', 'orders',
                           'shipments', 'returns', 'payments', 'settlements'] loop
    execute format('alter table %I add column external_id text check (length(external_id) between 1 and 200)', t);
    execute format('alter table %I add constraint %I unique (tenant_id, external_id)', t, t || '_external_id');
  end loop;
end $$;

create table shipment_events (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  shipment_id uuid not null,
  customer_id uuid not null, -- copied from the shipment so the customer policy needs no join
  status text not null check (status in ('label_created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'exception')),
  occurred_at timestamptz not null,
  location text check (length(location) <= 200),
  description text check (length(description) <= 500),
  source text not null default 'ingest' check (source in ('ingest', 'carrier')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, shipment_id, occurred_at, status),
  foreign key (tenant_id, shipment_id) references shipments(tenant_id, id)
);

create table competitor_price_observations (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  product_id uuid not null,
  competitor text not null check (length(competitor) between 1 and 200),
  price_cents bigint not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  observed_at timestamptz not null,
  url text check (length(url) <= 2000),
  external_id text not null check (length(external_id) between 1 and 200),
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, external_id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);
create index competitor_price_observations_product on competitor_price_observations (tenant_id, product_id, observed_at desc);

-- RLS, forced, before grants. Shipment events are the customer's own (as shipments); competitor
-- observations are staff-only reading.
alter table shipment_events enable row level security;
alter table shipment_events force row level security;
create policy shipment_events_owner on shipment_events for all
  using (tenant_id = app.tenant_id() and app.may_see_customer(customer_id))
  with check (tenant_id = app.tenant_id() and app.may_see_customer(customer_id));

alter table competitor_price_observations enable row level security;
alter table competitor_price_observations force row level security;
create policy competitor_price_observations_staff on competitor_price_observations for all
  using (tenant_id = app.tenant_id() and app.is_staff())
  with check (tenant_id = app.tenant_id() and app.is_staff());

-- The service actor: its own tenant's uploaded tables, read and write.
do $$
declare t text;
begin
  foreach t in array array['products', 'product_prices', 'warehouses', 'stock_levels', 'carriers', 'customers',
                           'orders', 'order_lines', 'shipments', 'shipment_events', 'returns', 'return_lines',
                           'payments', 'settlements', 'competitor_price_observations', 'tenant_counters'] loop
    execute format($p$create policy %I on %I for all
      using (tenant_id = app.tenant_id() and app.actor() = 'service')
      with check (tenant_id = app.tenant_id() and app.actor() = 'service')$p$, t || '_service', t);
  end loop;
end $$;

grant select, insert, update, delete on shipment_events, competitor_price_observations to commerce_app;

-- The owner role maintains every tenant's rows (same rule as the end of 005_policies.sql).
do $$
begin
  execute format('create policy owner_maintenance on shipment_events to %I using (true) with check (true)', current_user);
  execute format('create policy owner_maintenance on competitor_price_observations to %I using (true) with check (true)', current_user);
end $$;
