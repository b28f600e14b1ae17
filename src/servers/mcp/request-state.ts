// The `requestState` of an in-band confirmation (MCP 2026-07-28 basic/patterns/mrtr §"Server
// Requirements" 4–5): the state passes through the client, so it is attacker-controlled input. It is
// HMAC-SHA256-protected and carries what it is bound to: the principal (tenant, subject, OAuth
// client), the tool, a digest of the tool's arguments (canonical JSON) and of any server state the
// confirmation covers (the cart), an expiry, and a random id. A state that fails any check is
// refused; single use is enforced server-side by request_state_uses (migrations/020), not here.
//
// Wire form: `cmcp_rs1.<base64url(JSON payload)>.<base64url(HMAC)>`, the MAC over a domain-separated
// string, compared in constant time. The payload is not secret (it holds ids and digests, never
// customer text), so integrity is enough; no AEAD.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { dataDirKey } from '../../authz/data-dir-key.js';
import { canonicalJson } from '../../idempotency.js';

/** How long a confirmation may take between the summary and the person's answer. */
export const REQUEST_STATE_TTL_SECONDS = 600;
const PREFIX = 'cmcp_rs1';
const DOMAIN = 'commerce-mcp request state v1';
const KEY_FILE = 'mrtr-state-key';

/** The key: MRTR_STATE_KEY when configured (same on every instance), else DATA_DIR/mrtr-state-key. */
export function requestStateKey(config: Pick<Config, 'dataDir' | 'mrtrStateKey'>): Promise<Buffer> {
  return dataDirKey(config.dataDir, KEY_FILE, config.mrtrStateKey);
}

/** Who may present the state: the authenticated principal (MRTR §4.5, "the authenticated principal"). */
export interface Principal {
  tenantId: string;
  /** 'customer:<uuid>' or 'staff:<uuid>'. */
  subject: string;
  clientId: string;
}

/** What the state is for: one tool with these very arguments, over this server state. */
export interface StateBinding {
  tool: string;
  args: Record<string, unknown>;
  /** A digest of server state the confirmation covers (e.g. the cart's lines); '' when none. */
  over: string;
}

const payloadSchema = z.object({
  v: z.literal(1),
  id: z.uuid(),
  tenant: z.string(),
  sub: z.string(),
  client: z.string(),
  tool: z.string(),
  args: z.string().regex(/^[0-9a-f]{64}$/),
  over: z.string().max(128),
  exp: z.number().int(),
}).strict();
export type RequestStatePayload = z.infer<typeof payloadSchema>;

/** The digest of a tool's arguments the state is bound to (canonical JSON: key order never matters). */
export function argumentsDigest(tool: string, args: Record<string, unknown>): string {
  return createHash('sha256').update(`${tool}\n${canonicalJson(args)}`).digest('hex');
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(`${DOMAIN}\n${body}`).digest();
}

/** Mints a new state for this principal and binding, valid for REQUEST_STATE_TTL_SECONDS. */
export function sealRequestState(key: Buffer, who: Principal, what: StateBinding, now = new Date()): { state: string; payload: RequestStatePayload } {
  const payload: RequestStatePayload = {
    v: 1, id: randomUUID(), tenant: who.tenantId, sub: who.subject, client: who.clientId, tool: what.tool,
    args: argumentsDigest(what.tool, what.args), over: what.over, exp: Math.floor(now.getTime() / 1000) + REQUEST_STATE_TTL_SECONDS,
  };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return { state: `${PREFIX}.${body}.${mac(key, body).toString('base64url')}`, payload };
}

/** Why a presented state is refused. The client is told only that it is not valid for this call. */
export type StateRefusal = 'malformed' | 'forged' | 'expired' | 'other_principal' | 'other_request';

/**
 * MRTR §"Server Requirements" 4–5: verifies the MAC, then the expiry, the principal and the request
 * (tool, arguments, covered state). Returns the payload, or why it is refused.
 */
export function openRequestState(
  key: Buffer, state: string, who: Principal, what: StateBinding, now = new Date(),
): { ok: true; payload: RequestStatePayload } | { ok: false; refusal: StateRefusal } {
  if (state.length > 2048) return { ok: false, refusal: 'malformed' };
  const parts = state.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]{43}$/.test(parts[2]!)) {
    return { ok: false, refusal: 'malformed' };
  }
  const expected = mac(key, parts[1]!);
  const presented = Buffer.from(parts[2]!, 'base64url');
  // Only the canonical encoding: base64url's last character carries unused bits, so two strings
  // can decode to one MAC; a state is the exact string we issued, never a look-alike of it.
  if (presented.toString('base64url') !== parts[2]) return { ok: false, refusal: 'forged' };
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, refusal: 'forged' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, refusal: 'malformed' };
  }
  const parsed = payloadSchema.safeParse(decoded);
  if (!parsed.success) return { ok: false, refusal: 'malformed' };
  const p = parsed.data;
  if (p.exp <= Math.floor(now.getTime() / 1000)) return { ok: false, refusal: 'expired' };
  if (p.tenant !== who.tenantId || p.sub !== who.subject || p.client !== who.clientId) return { ok: false, refusal: 'other_principal' };
  if (p.tool !== what.tool || p.args !== argumentsDigest(what.tool, what.args) || p.over !== what.over) {
    return { ok: false, refusal: 'other_request' };
  }
  return { ok: true, payload: p };
}
