// What follows a successful sign-in, by password (endpoints/login.ts) or through the tenant's
// upstream provider (federation/callback.ts): scope = requested ∩ role-allowed; then remembered
// consent (straight to the client, when the client's identity is assured: O14) or our consent page.
import type { Request, Response } from 'express';
import { recordAudit } from '../audit/record.js';
import { withContext, type Tx } from '../db/context.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/directory.js';
import { allowedScopes, grantableScope } from './checks/scope.js';
import { AccessDenied } from './errors.js';
import { sendErrorPage } from './html.js';
import { clearInteractionCookie, completeInteraction, interactionPath, loadInteraction, type Interaction } from './interactions.js';
import { issueCode, redirectError, redirectWith } from './redirects.js';
import { EXPIRED_MESSAGE } from './endpoints/interaction.js';

export interface SignedInSubject { kind: 'customer' | 'staff'; id: string; role: string | null }

/** Whether this subject already consented to exactly this (client, resource, scope) (M2). */
export async function hasConsent(tx: Tx, tenantId: string, kind: string, subjectId: string, clientId: string, resource: string, scope: string[]): Promise<boolean> {
  const rows = await tx`select 1 from oauth_consents where tenant_id = ${tenantId} and subject_kind = ${kind}
    and subject_id = ${subjectId} and client_id = ${clientId} and resource = ${resource} and scope = ${scope.join(' ')}`;
  return rows.length > 0;
}

export async function continueAfterSignIn(services: Services, req: Request, res: Response,
  at: { tenant: Tenant; issuer: string; interaction: Interaction; subject: SignedInSubject; method: 'password' | 'upstream'; detail?: Record<string, unknown> }): Promise<void> {
  const { tenant, issuer, interaction, subject } = at;
  const secure = services.config.publicUrl.startsWith('https:');
  const granted = grantableScope(interaction.request.requestedScope, allowedScopes(interaction.request.resourceKind, subject.role));
  const outcome = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
    const current = await loadInteraction(tx, tenant.id, interaction.id);
    if (!current || current.subjectId) return { kind: 'expired' as const };
    await recordAudit(tx, { tenantId: tenant.id, event: 'auth.login', outcome: 'ok', actorKind: subject.kind, actorId: subject.id,
      clientId: interaction.request.clientId, requestId: String(req.id), ...(at.method === 'upstream' ? { detail: { method: 'upstream', ...at.detail } } : {}) });
    if (!granted.length) {
      await completeInteraction(tx, tenant.id, interaction.id);
      return { kind: 'denied' as const, r: current.request };
    }
    // O14: a public client on a loopback redirect is asked every time (RFC 8252 §8.6).
    if (current.request.mayReuseConsent === true && await hasConsent(tx, tenant.id, subject.kind, subject.id, current.request.clientId, current.request.resource, granted)) {
      const code = await issueCode(tx, tenant.id, current.request, { kind: subject.kind, id: subject.id }, granted);
      await completeInteraction(tx, tenant.id, interaction.id);
      return { kind: 'code' as const, r: current.request, code };
    }
    const request = { ...current.request, grantedScope: granted };
    await tx`update oauth_interactions set subject_kind = ${subject.kind}, subject_id = ${subject.id}, request = ${tx.json(request as never)}
             where tenant_id = ${tenant.id} and id = ${interaction.id}`;
    return { kind: 'consent' as const };
  });
  switch (outcome.kind) {
    case 'expired': return sendErrorPage(res, 400, EXPIRED_MESSAGE);
    case 'denied':
      clearInteractionCookie(res, secure, tenant.slug, interaction.id);
      return redirectError(res, issuer, outcome.r.redirectUri, outcome.r.state, new AccessDenied('no grantable scope for this role'));
    case 'code':
      clearInteractionCookie(res, secure, tenant.slug, interaction.id);
      return redirectWith(res, outcome.r.redirectUri, { code: outcome.code, state: outcome.r.state, iss: issuer });
    case 'consent':
      return res.redirect(303, interactionPath(tenant.slug, interaction.id));
  }
}
