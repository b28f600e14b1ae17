// Appends one event to the tenant's hash-chained audit log (migrations/003_audit.sql, 021). Runs inside
// the caller's transaction, so an event and the effect it records commit or vanish together. The
// entry is inserted unlinked (no chain-head lock); the sealer (src/audit/sealer.ts) links it after commit.
import type { Tx } from '../db/context.js';

export interface AuditEvent {
  tenantId: string;
  event: string; // 'tool.call', 'auth.login_failed', 'auth.token_issued', 'action.approved', ...
  outcome: string; // 'ok', 'denied', 'error', 'pending', ...
  actorKind: 'customer' | 'staff' | 'service' | 'anonymous' | 'system';
  actorId?: string | null;
  clientId?: string | null;
  tokenId?: string | null;
  requestId?: string | null;
  tool?: string | null;
  arguments?: unknown;
  latencyMs?: number | null;
  detail?: unknown;
}

const SECRET_KEYS = /pass(word)?|secret|token|code_verifier|^code$|authorization|card/i;

/**
 * Text PostgreSQL can store: no NUL (jsonb and text refuse it) and no lone surrogate halves,
 * cut at `max` code points, never inside a character.
 */
export function storableText(text: string, max = 500): string {
  const clean = text.replace(/\u0000/g, '\uFFFD').toWellFormed();
  const points = Array.from(clean);
  return points.length > max ? `${points.slice(0, max).join('')}…` : clean;
}

/** Arguments as recorded: secrets masked, long strings cut (the audit is not a data store). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).slice(0, 50)
        .map(([k, v]) => [storableText(k, 100), SECRET_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1)]),
    );
  }
  return value;
}

export async function recordAudit(tx: Tx, e: AuditEvent): Promise<void> {
  const args = e.arguments === undefined ? null : tx.json(redact(e.arguments) as never);
  const detail = e.detail === undefined ? null : tx.json(redact(e.detail) as never);
  // The entry (its position, transaction and time are the table's defaults), then its place in the
  // sealer's queue (migrations/025): both in the caller's transaction, sent together (one flight).
  const entry = tx`
    insert into audit_events (tenant_id, request_id, actor_kind, actor_id, client_id, token_id, event, tool,
                              arguments, outcome, latency_ms, detail)
    values (${e.tenantId}, ${e.requestId ?? null}, ${e.actorKind}, ${e.actorId ?? null}, ${e.clientId ?? null},
            ${e.tokenId ?? null}, ${e.event}, ${e.tool == null ? null : storableText(e.tool, 100)}, ${args}, ${e.outcome}, ${e.latencyMs ?? null},
            ${detail})`;
  const queued = tx`insert into audit_unsealed (tenant_id, pos) values (${e.tenantId}, currval('audit_events_pos'))`;
  // postgres.js sends a query when it is first awaited: Promise.all sends the entry, then the queue row.
  await Promise.all([entry, queued]);
}
