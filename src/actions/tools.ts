// The internal write tools, one executor module each. The MCP layer registers one tool per entry
// (input = `args` extended with WRITE_TOOL_EXTRAS) as a thin wrapper over `requestAction`.
import { z } from 'zod';
import { changePrice } from './change-price.js';
import { createReorder } from './create-reorder.js';
import { decideReturn } from './decide-return.js';
import type { ActionExecutor } from './executor.js';
import type { WriteTool } from './guardrails.js';
import { issueRefund } from './issue-refund.js';
import { openDamageClaim } from './open-damage-claim.js';
import { rerouteDelivery } from './reroute-delivery.js';
import { resolveDamageClaim } from './resolve-damage-claim.js';

export const WRITE_EXECUTORS: Readonly<Record<WriteTool, ActionExecutor<any>>> = {
  create_reorder: createReorder,
  reroute_delivery: rerouteDelivery,
  decide_return: decideReturn,
  open_damage_claim: openDamageClaim,
  resolve_damage_claim: resolveDamageClaim,
  issue_refund: issueRefund,
  change_price: changePrice,
};

export function executorFor(tool: string): ActionExecutor<any> | undefined {
  return Object.hasOwn(WRITE_EXECUTORS, tool) ? WRITE_EXECUTORS[tool as WriteTool] : undefined;
}

/** Fields every write tool accepts besides its own arguments; not part of the action's arguments. */
export const WRITE_TOOL_EXTRAS = {
  justification: z.string().trim().min(1).max(2000).optional()
    .describe('Why this is needed, shown to the approver (as the assistant\'s words, not verified)'),
  idempotency_key: z.string().regex(/^[\x21-\x7e]{8,128}$/, '8–128 printable ASCII characters').optional()
    .describe('A fresh random key per intended action; a retry with the same key returns the first result'),
} as const;
