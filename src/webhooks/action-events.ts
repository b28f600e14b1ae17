// action.pending and action.decided (docs/WEBHOOKS.md): written by the action engine
// (src/actions/engine.ts) in the transaction that makes an action wait or decides it, so
// approvers hear of exactly the actions that really wait, with the console link to decide them.
import type { Tx } from '../db/context.js';
import { consolePath, enqueueWebhookEvent, tenantSlug, type WebhookEventData } from './outbox.js';

export async function actionPending(tx: Tx, tenantId: string, action: { id: string; tool: string; summary: string; wait_reason: string | null; expires_at: Date }): Promise<void> {
  await enqueueWebhookEvent(tx, tenantId, 'action.pending', {
    action_id: action.id, tool: action.tool, summary: action.summary, wait_reason: action.wait_reason,
    expires_at: action.expires_at.toISOString(), console_path: consolePath(await tenantSlug(tx, tenantId), action.id),
  });
}

export async function actionDecided(tx: Tx, tenantId: string, action: { id: string; tool: string }, outcome: WebhookEventData['action.decided']['outcome']): Promise<void> {
  await enqueueWebhookEvent(tx, tenantId, 'action.decided', {
    action_id: action.id, tool: action.tool, outcome, decided_at: new Date().toISOString(),
    console_path: consolePath(await tenantSlug(tx, tenantId), action.id),
  });
}
