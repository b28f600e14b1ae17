-- Guardrails that cannot be walked around (issue 10, A7 and A8).
--
-- A8: a reorder's value is measured by the cost the shop has on file, never only by the unit cost
-- the requester passes. The catalogue cost lives on the product (null = not on file; then the
-- highest recent purchase-order cost stands in, and with neither the reorder waits).
alter table products add column unit_cost_cents bigint check (unit_cost_cents >= 0);

-- A7: what each action measured and which order, customer and product it concerns, so the engine can
-- sum executed and pending actions per order, customer, product, requester and tenant over a window;
-- and why an action waits (the phase, or the limit it would exceed), shown to the agent and approver.
alter table pending_actions
  add column measures jsonb not null default '{}',
  add column scope_order_id uuid,
  add column scope_customer_id uuid,
  add column scope_product_id uuid,
  add column wait_reason text;

-- The aggregate look-ups: actions that still count (executed, or pending and not expired) by scope.
create index pending_actions_counted_by_tool on pending_actions (tenant_id, tool, coalesce(executed_at, created_at))
  where status in ('pending', 'executed');
create index pending_actions_counted_by_order on pending_actions (tenant_id, tool, scope_order_id)
  where status in ('pending', 'executed') and scope_order_id is not null;
create index pending_actions_counted_by_customer on pending_actions (tenant_id, tool, scope_customer_id)
  where status in ('pending', 'executed') and scope_customer_id is not null;
create index pending_actions_counted_by_product on pending_actions (tenant_id, tool, scope_product_id)
  where status in ('pending', 'executed') and scope_product_id is not null;
create index pending_actions_counted_by_requester on pending_actions (tenant_id, tool, requested_by)
  where status in ('pending', 'executed');
