// The outbox of outgoing webhooks (issue 12 item 4; docs/WEBHOOKS.md): an event is one row of
// webhook_events, written by the code that makes the change IN ITS TRANSACTION — an order that
// commits has its order.placed event, one that rolls back has none. The delivery worker
// (worker.ts) turns events into deliveries and sends them. Insert only: the request's context
// (customer or staff) may append, never read the outbox back.
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/context.js';

export const WEBHOOK_EVENT_TYPES = ['action.pending', 'action.decided', 'return.requested', 'order.placed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What each event says. No customer-written text (return reasons, notes) and no personal data. */
export interface WebhookEventData {
  'action.pending': { action_id: string; tool: string; summary: string; wait_reason: string | null; expires_at: string; console_path: string };
  'action.decided': { action_id: string; tool: string; outcome: 'executed' | 'rejected' | 'failed' | 'expired'; decided_at: string; console_path: string };
  'return.requested': { return_number: string; order_number: string; lines: number };
  'order.placed': { order_number: string; total_cents: number; currency: string; lines: number };
}

/** Where an action is decided in the approval console, relative to INTERNAL_URL (the worker makes it absolute). */
export function consolePath(tenantSlug: string, actionId: string): string {
  return `/console/t/${tenantSlug}/actions/${actionId}`;
}

/** Appends one event to the tenant's outbox, inside the caller's transaction. Returns its id. */
export async function enqueueWebhookEvent<T extends WebhookEventType>(tx: Tx, tenantId: string, type: T, data: WebhookEventData[T]): Promise<string> {
  const id = randomUUID();
  // No RETURNING: the request's context may insert but not read webhook_events.
  await tx`insert into webhook_events (tenant_id, id, type, data) values (${tenantId}, ${id}, ${type}, ${tx.json(data as never)})`;
  return id;
}

/** The tenant's slug for console links (tenants is a public directory). */
export async function tenantSlug(tx: Tx, tenantId: string): Promise<string> {
  const [t] = await tx<{ slug: string }[]>`select slug from tenants where id = ${tenantId}`;
  return t?.slug ?? '';
}
