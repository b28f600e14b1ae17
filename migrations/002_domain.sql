-- The e-commerce domain. Every tenant-owned table: tenant_id in the primary key and in every unique
-- key (R7), composite foreign keys so a child row can only point at a parent of its own tenant,
-- RLS enabled and forced with WITH CHECK (R2, R3). Policies are written before grants.
-- migrations/README.md documents each table and who may read or write it.

create table tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'),
  name text not null,
  disabled_at timestamptz,
  created_at timestamptz not null default now()
);

create table tenant_settings (
  tenant_id uuid primary key references tenants(id),
  phase smallint not null default 1 check (phase between 1 and 3),
  -- per write tool: {"create_reorder": {"max_quantity": 100, "max_value_cents": 500000}, ...}
  guardrails jsonb not null default '{}',
  self_approval_limit_cents bigint not null default 0 check (self_approval_limit_cents >= 0),
  return_window_days int not null default 30 check (return_window_days between 0 and 365),
  non_returnable_categories text[] not null default '{}',
  returns_policy_text text not null default '',
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  rate_limits jsonb not null default '{}',
  updated_at timestamptz not null default now()
);

create type staff_role as enum ('supply_chain_manager', 'warehouse_lead', 'returns_specialist', 'tenant_admin');

create table staff (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  email text not null check (email = lower(email) and length(email) <= 254),
  name text not null,
  role staff_role not null,
  password_hash text not null,
  may_approve boolean not null default false,
  disabled_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, email)
);

create table customers (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  email text not null check (email = lower(email) and length(email) <= 254),
  name text not null,
  password_hash text not null,
  -- simulated payments only: a stored test payment method, never a real card
  payment_method jsonb not null default '{"type": "test_card", "last4": "4242"}',
  disabled_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, email)
);

create table products (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  sku text not null,
  name text not null,
  description text not null default '',
  category text not null,
  returnable boolean not null default true,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, sku)
);

-- Price history: the current price is the row with valid_to null.
create table product_prices (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  product_id uuid not null,
  amount_cents bigint not null check (amount_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  valid_from timestamptz not null default now(),
  valid_to timestamptz,
  changed_by uuid,
  primary key (tenant_id, id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);
create unique index product_prices_current on product_prices (tenant_id, product_id) where valid_to is null;
create index product_prices_history on product_prices (tenant_id, product_id, valid_from desc);

create table warehouses (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  code text not null,
  name text not null,
  city text not null,
  primary key (tenant_id, id),
  unique (tenant_id, code)
);

create table stock_levels (
  tenant_id uuid not null,
  warehouse_id uuid not null,
  product_id uuid not null,
  on_hand int not null check (on_hand >= 0),
  reserved int not null default 0 check (reserved >= 0),
  reorder_point int not null default 0 check (reorder_point >= 0),
  reorder_quantity int not null default 0 check (reorder_quantity >= 0),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, warehouse_id, product_id),
  foreign key (tenant_id, warehouse_id) references warehouses(tenant_id, id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);
create index stock_levels_product on stock_levels (tenant_id, product_id);

create table suppliers (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  name text not null,
  email text not null,
  lead_time_days int not null default 7,
  primary key (tenant_id, id),
  unique (tenant_id, name)
);

create table purchase_orders (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  number text not null,
  supplier_id uuid not null,
  warehouse_id uuid not null,
  product_id uuid not null,
  quantity int not null check (quantity > 0),
  unit_cost_cents bigint not null check (unit_cost_cents >= 0),
  status text not null default 'sent' check (status in ('sent', 'confirmed', 'received', 'cancelled')),
  action_id uuid,
  created_by uuid,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, number),
  foreign key (tenant_id, supplier_id) references suppliers(tenant_id, id),
  foreign key (tenant_id, warehouse_id) references warehouses(tenant_id, id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);

create type order_status as enum ('pending_payment', 'paid', 'picking', 'shipped', 'delivered', 'cancelled', 'returned');

create table orders (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  number text not null,
  customer_id uuid not null,
  status order_status not null,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  total_cents bigint not null check (total_cents >= 0),
  shipping_address jsonb not null default '{}',
  note text, -- customer-written: untrusted
  promised_by date,
  placed_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, number),
  foreign key (tenant_id, customer_id) references customers(tenant_id, id)
);
create index orders_customer on orders (tenant_id, customer_id, placed_at desc);
create index orders_status on orders (tenant_id, status, placed_at desc);

create table order_lines (
  tenant_id uuid not null,
  order_id uuid not null,
  line_no int not null check (line_no > 0),
  customer_id uuid not null,
  product_id uuid not null,
  quantity int not null check (quantity > 0),
  unit_price_cents bigint not null check (unit_price_cents >= 0),
  primary key (tenant_id, order_id, line_no),
  foreign key (tenant_id, order_id) references orders(tenant_id, id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);
create index order_lines_customer_product on order_lines (tenant_id, customer_id, product_id);

create table carriers (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  name text not null,
  tracking_url_template text not null default '',
  primary key (tenant_id, id),
  unique (tenant_id, name)
);

create table drivers (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  carrier_id uuid not null,
  name text not null,
  phone text,
  active boolean not null default true,
  last_lat numeric(9, 6),
  last_lng numeric(9, 6),
  last_seen_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, carrier_id) references carriers(tenant_id, id)
);

create type shipment_status as enum ('label_created', 'in_transit', 'out_for_delivery', 'delivered', 'exception');

create table shipments (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  order_id uuid not null,
  customer_id uuid not null,
  warehouse_id uuid not null,
  carrier_id uuid not null,
  driver_id uuid,
  tracking_number text not null,
  status shipment_status not null,
  shipped_at timestamptz,
  eta timestamptz,
  delivered_at timestamptz,
  late_cause_code text check (late_cause_code in ('weather', 'carrier_capacity', 'address_issue', 'customs', 'warehouse_backlog', 'vehicle_breakdown')),
  late_cause text,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, tracking_number),
  foreign key (tenant_id, order_id) references orders(tenant_id, id),
  foreign key (tenant_id, warehouse_id) references warehouses(tenant_id, id),
  foreign key (tenant_id, carrier_id) references carriers(tenant_id, id),
  foreign key (tenant_id, driver_id) references drivers(tenant_id, id)
);
create index shipments_order on shipments (tenant_id, order_id);
create index shipments_in_flight on shipments (tenant_id, status, eta) where status <> 'delivered';

create type return_status as enum ('requested', 'approved', 'rejected', 'received', 'refunded');

create table returns (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  number text not null,
  order_id uuid not null,
  customer_id uuid not null,
  status return_status not null default 'requested',
  reason text not null, -- customer-written: untrusted
  created_at timestamptz not null default now(),
  decided_at timestamptz,
  decided_by uuid,
  decision_note text,
  primary key (tenant_id, id),
  unique (tenant_id, number),
  foreign key (tenant_id, order_id) references orders(tenant_id, id)
);
create index returns_order on returns (tenant_id, order_id);
create index returns_status on returns (tenant_id, status, created_at desc);

create table return_lines (
  tenant_id uuid not null,
  return_id uuid not null,
  order_id uuid not null,
  line_no int not null,
  customer_id uuid not null,
  quantity int not null check (quantity > 0),
  condition text not null default 'unopened' check (condition in ('unopened', 'opened', 'damaged')),
  primary key (tenant_id, return_id, line_no),
  foreign key (tenant_id, return_id) references returns(tenant_id, id),
  foreign key (tenant_id, order_id, line_no) references order_lines(tenant_id, order_id, line_no)
);

create type claim_status as enum ('open', 'resolved_paid', 'resolved_rejected');

create table damage_claims (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  number text not null,
  shipment_id uuid not null,
  order_id uuid not null,
  carrier_id uuid not null,
  status claim_status not null default 'open',
  amount_cents bigint not null check (amount_cents >= 0),
  description text not null,
  opened_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolution text,
  primary key (tenant_id, id),
  unique (tenant_id, number),
  foreign key (tenant_id, shipment_id) references shipments(tenant_id, id),
  foreign key (tenant_id, order_id) references orders(tenant_id, id),
  foreign key (tenant_id, carrier_id) references carriers(tenant_id, id)
);

create type payment_status as enum ('authorized', 'captured', 'partially_refunded', 'refunded', 'failed');

create table payments (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  order_id uuid not null,
  customer_id uuid not null,
  amount_cents bigint not null check (amount_cents >= 0),
  refunded_cents bigint not null default 0 check (refunded_cents >= 0),
  currency text not null,
  method text not null default 'test_card',
  status payment_status not null,
  settlement_id uuid,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, order_id) references orders(tenant_id, id),
  check (refunded_cents <= amount_cents)
);
create index payments_order on payments (tenant_id, order_id);

create table refunds (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  payment_id uuid not null,
  order_id uuid not null,
  customer_id uuid not null,
  amount_cents bigint not null check (amount_cents > 0),
  reason text not null,
  action_id uuid,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, payment_id) references payments(tenant_id, id)
);

create table settlements (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  period_start date not null,
  period_end date not null,
  gross_cents bigint not null,
  fees_cents bigint not null,
  refunds_cents bigint not null,
  net_cents bigint not null,
  status text not null check (status in ('pending', 'paid')),
  paid_at timestamptz,
  primary key (tenant_id, id),
  unique (tenant_id, period_start)
);

create table carts (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  customer_id uuid not null,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, customer_id),
  foreign key (tenant_id, customer_id) references customers(tenant_id, id)
);

create table cart_items (
  tenant_id uuid not null,
  cart_id uuid not null,
  product_id uuid not null,
  customer_id uuid not null,
  quantity int not null check (quantity between 1 and 100),
  primary key (tenant_id, cart_id, product_id),
  foreign key (tenant_id, cart_id) references carts(tenant_id, id),
  foreign key (tenant_id, product_id) references products(tenant_id, id)
);

-- Per-tenant counters for human-facing numbers (orders, RMAs, POs): a global sequence would let one
-- tenant observe another's volume (R7).
create table tenant_counters (
  tenant_id uuid not null references tenants(id),
  name text not null,
  value bigint not null default 0,
  primary key (tenant_id, name)
);

-- Idempotency keys for writes (A5, F4): the first result is kept and returned to retries.
create table idempotency_keys (
  tenant_id uuid not null references tenants(id),
  subject text not null, -- 'customer:<uuid>' or 'staff:<uuid>'
  key text not null check (length(key) between 8 and 128),
  tool text not null,
  request_hash text not null,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (tenant_id, subject, key)
);

-- Human in the loop (PRODUCT.md §1): every internal write becomes an action record.
create type action_status as enum ('pending', 'approved', 'rejected', 'expired', 'executed', 'failed');

create table pending_actions (
  tenant_id uuid not null references tenants(id),
  id uuid not null default gen_random_uuid(),
  tool text not null,
  arguments jsonb not null,
  summary text not null,
  justification text, -- written by the agent: untrusted
  requested_by uuid not null,
  client_id text not null,
  token_id uuid,
  status action_status not null default 'pending',
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  decided_by uuid,
  decided_at timestamptz,
  decision_reason text,
  executed_at timestamptz,
  result jsonb,
  primary key (tenant_id, id),
  foreign key (tenant_id, requested_by) references staff(tenant_id, id)
);
create index pending_actions_open on pending_actions (tenant_id, created_at) where status = 'pending';
