// Carrier events in (issue 12 item 3; docs/WEBHOOKS.md "Carrier events"): POST
// {publicUrl}/t/{slug}/webhooks/carriers/{carrier} on the public listener, signed the Standard
// Webhooks way with the secret of that carrier in that tenant (`npm run admin -- carriers
// set-secret`). The endpoint reads as its steps: tenant, raw body, the carrier's secret, signature
// and timestamp (401), the event itself (400), then one transaction in the tenant's 'system'
// context that records the event id (a replay is 409 and changes nothing) and moves the shipment.
// Late causes reported in `exception` events land in shipments.late_cause_code / late_cause, where
// get_order (customer) and late_shipments (staff) read them.
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { recordAudit } from '../audit/record.js';
import { clientIp, resolveTenant, tenantOf } from '../authz/http.js';
import { withContext, type Tx } from '../db/context.js';
import type { Services } from '../services.js';
import { cleanText } from '../text/invisible.js';
import { findTextDefect } from '../text/defects.js';
import { open, secretsKey } from './secret-box.js';
import { generateSecret, verifySignature } from './signature.js';

export const CARRIER_EVENT_TYPES = ['picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'exception'] as const;
export const LATE_CAUSE_CODES = ['weather', 'carrier_capacity', 'address_issue', 'customs', 'warehouse_backlog', 'vehicle_breakdown'] as const;
/** A receipt outlives the timestamp tolerance many times over; older replays fail on their timestamp. */
const RECEIPT_DAYS = 7;
const MAX_BODY = '16kb';
const CARRIER_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** O11/A4: refused signatures per tenant and address before that address is refused outright for a while. */
export const SIGNATURE_FAILURES_ALLOWED = 60;
const SIGNATURE_FAILURE_WINDOW_SECONDS = 900;

const when = z.iso.datetime({ offset: true });
export const carrierEvent = z.object({
  type: z.enum(CARRIER_EVENT_TYPES),
  tracking_number: z.string().min(1).max(64),
  occurred_at: when,
  eta: when.optional(),
  cause_code: z.enum(LATE_CAUSE_CODES).optional(),
  cause: z.string().min(1).max(300).optional(),
}).strict().refine((e) => e.type !== 'exception' || e.cause_code !== undefined, { message: 'an exception needs a cause_code', path: ['cause_code'] })
  .refine((e) => e.type === 'exception' || (e.cause_code === undefined && e.cause === undefined), { message: 'only exceptions carry a cause', path: ['cause'] });
export type CarrierEvent = z.infer<typeof carrierEvent>;

/** The sealed secret's binding: it opens only for this tenant and carrier. */
export function carrierSecretBinding(tenantId: string, carrierId: string): readonly string[] {
  return ['carrier-webhook', tenantId, carrierId];
}

function refuse(res: Response, status: number, error: string, description: string): void {
  res.status(status).json({ error, error_description: description });
}

interface Locals { carrierId: string; carrierName: string; event: CarrierEvent; eventId: string }

/** Step: the carrier's secret, the signature and the timestamp. Unknown carrier, no secret, bad or stale signature: the same 401. */
function verifiedCarrier(services: Services) {
  const tolerance = services.config.webhooks.carrierToleranceSeconds;
  const failures = services.rateLimits.limiter('carrier_sig', { points: SIGNATURE_FAILURES_ALLOWED, durationSeconds: SIGNATURE_FAILURE_WINDOW_SECONDS });
  return async (req: Request, res: Response, next: NextFunction) => {
    const { tenant } = tenantOf(res);
    // Step: an address that keeps sending bad signatures is refused before any work (shared store; fails closed).
    const throttleKey = `${tenant.id}:${clientIp(req)}`;
    let seen;
    try { seen = await failures.get(throttleKey); } catch { return void res.status(503).set('Retry-After', '5').json({ error: 'temporarily_unavailable', error_description: 'Retry shortly' }); }
    if (seen && seen.consumedPoints >= SIGNATURE_FAILURES_ALLOWED) {
      const wait = Math.max(1, Math.ceil(seen.msBeforeNext / 1000));
      return void res.status(429).set('Retry-After', String(wait)).json({ error: 'too_many_requests', error_description: `Too many refused signatures: retry after ${wait} s` });
    }
    const slug = String(req.params.carrier ?? '');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const [row] = CARRIER_SLUG.test(slug)
      ? await withContext(services.sql, { kind: 'system', tenantId: tenant.id }, (tx) => tx<{ id: string; name: string; secret_sealed: string | null }[]>`
          select c.id, c.name, s.secret_sealed from carriers c
          left join carrier_webhook_secrets s on s.tenant_id = c.tenant_id and s.carrier_id = c.id
          where c.tenant_id = ${tenant.id} and c.slug = ${slug}`)
      : [];
    const key = await secretsKey(services.config);
    const secret = row?.secret_sealed ? open(key, row.secret_sealed, carrierSecretBinding(tenant.id, row.id)) : null;
    // Without a secret, verify against a throwaway one: the answer and its timing do not tell
    // whether the carrier exists or has a secret.
    const verdict = verifySignature(secret ?? generateSecret(), {
      id: req.get('webhook-id'), timestamp: req.get('webhook-timestamp'), signature: req.get('webhook-signature'),
    }, body, tolerance, Math.floor(Date.now() / 1000));
    if (!verdict.ok || !row || !secret) {
      req.log?.info({ carrier: slug, problem: verdict.ok ? 'no_secret' : verdict.problem }, 'carrier event refused');
      await failures.penalty(throttleKey, 1).catch(() => {});
      return refuse(res, 401, 'invalid_signature', 'The signature, its timestamp or the carrier is not valid');
    }
    let json: unknown;
    try { json = JSON.parse(body.toString('utf8')); } catch { return refuse(res, 400, 'invalid_request', 'The body is not JSON'); }
    const defect = findTextDefect(json);
    if (defect) return refuse(res, 400, 'invalid_request', `${defect.path} contains characters that are not text`);
    const parsed = carrierEvent.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return refuse(res, 400, 'invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const eventId = req.get('webhook-id')!;
    if (eventId.length > 200) return refuse(res, 400, 'invalid_request', 'webhook-id is too long');
    Object.assign(res.locals, { carrierId: row.id, carrierName: row.name, event: parsed.data, eventId } satisfies Locals);
    next();
  };
}

export type Applied = 'applied' | 'recorded_only';

/** How an event moves a shipment: the columns it sets (pure; docs/WEBHOOKS.md "Carrier events"). */
export function shipmentChange(e: CarrierEvent): Record<string, unknown> {
  const at = new Date(e.occurred_at);
  const eta = e.eta ? { eta: new Date(e.eta) } : {};
  switch (e.type) {
    case 'picked_up': return { status: 'in_transit', shipped_at: at, ...eta };
    case 'in_transit': return { status: 'in_transit', ...eta };
    case 'out_for_delivery': return { status: 'out_for_delivery', ...eta };
    case 'delivered': return { status: 'delivered', delivered_at: at };
    case 'exception': return {
      status: 'exception', late_cause_code: e.cause_code,
      // Carrier-written: cleaned of invisible characters; a code without words gets plain words.
      late_cause: e.cause ? cleanText(e.cause).text.slice(0, 300) : `Carrier reported: ${e.cause_code!.replace(/_/g, ' ')}`,
      ...eta,
    };
  }
}

/** Step: one transaction: the receipt (replay → 409), then the shipment moves, then the audit entry. */
async function applyEvent(tx: Tx, tenantId: string, l: Locals): Promise<{ status: 'replayed' } | { status: Applied; shipment: string }> {
  const [shipment] = await tx<{ id: string; status: string; carrier_event_at: Date | null }[]>`
    select id, status::text as status, carrier_event_at from shipments
    where tenant_id = ${tenantId} and carrier_id = ${l.carrierId} and tracking_number = ${l.event.tracking_number} for update`;
  const receipt = await tx`
    insert into carrier_event_receipts (tenant_id, carrier_id, event_id, event_type, shipment_id, occurred_at, expires_at)
    values (${tenantId}, ${l.carrierId}, ${l.eventId}, ${l.event.type}, ${shipment?.id ?? null}, ${l.event.occurred_at},
            now() + make_interval(days => ${RECEIPT_DAYS}))
    on conflict do nothing returning event_id`;
  if (receipt.length === 0) return { status: 'replayed' };
  if (!shipment) throw new UnknownShipment();
  const at = new Date(l.event.occurred_at);
  // A delivered parcel stays delivered; an event older than the last one applied is kept as a receipt only.
  const stale = shipment.status === 'delivered' || (shipment.carrier_event_at !== null && at < shipment.carrier_event_at);
  if (!stale) {
    const change = { ...shipmentChange(l.event), carrier_event_at: at, updated_at: new Date() };
    await tx`update shipments set ${tx(change as Record<string, unknown>)} where tenant_id = ${tenantId} and id = ${shipment.id}`;
  }
  await recordAudit(tx, {
    tenantId, event: 'carrier.event', outcome: stale ? 'recorded_only' : 'ok', actorKind: 'system', actorId: null, clientId: `carrier:${l.carrierName}`,
    detail: { event_id: l.eventId, type: l.event.type, tracking_number: l.event.tracking_number, cause_code: l.event.cause_code ?? null },
  });
  return { status: stale ? 'recorded_only' : 'applied', shipment: l.event.tracking_number };
}

class UnknownShipment extends Error {}

export function carrierEvents(services: Services): Router {
  const router = Router();
  router.post('/t/:slug/webhooks/carriers/:carrier',
    resolveTenant(services),
    express.raw({ type: () => true, limit: MAX_BODY }),
    verifiedCarrier(services),
    async (req: Request, res: Response) => {
      const { tenant } = tenantOf(res);
      const l = res.locals as unknown as Locals;
      try {
        const outcome = await withContext(services.sql, { kind: 'system', tenantId: tenant.id }, (tx) => applyEvent(tx, tenant.id, l));
        if (outcome.status === 'replayed') return refuse(res, 409, 'replayed', 'This event id was already received');
        res.status(200).json({ status: outcome.status, event_id: l.eventId });
      } catch (error) {
        // The transaction rolled back: no receipt, so the carrier may send it again once the shipment exists.
        if (error instanceof UnknownShipment) return refuse(res, 404, 'unknown_shipment', `No shipment ${l.event.tracking_number} with this carrier`);
        throw error;
      }
    });
  return router;
}
