// Consent (POST of the consent form): our own CSRF-protected decision, never a query parameter
// (@node-oauth/oauth2-server treats any `allowed` other than "false" as consent). Remembered per
// (subject, client, resource, sorted scope) (M2). Always answered with a 303 to the client, with iss.
import express, { Router, type Request, type Response } from 'express';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { AccessDenied } from '../errors.js';
import { sendErrorPage } from '../html.js';
import { noStore, refuseDefectiveBody, resolveTenant, tenantOf } from '../http.js';
import { clearInteractionCookie, completeInteraction, formCsrfValid, loadInteraction, sameOrigin } from '../interactions.js';
import { issueCode, redirectError, redirectWith } from '../redirects.js';
import { EXPIRED_MESSAGE, interactionForBrowser } from './interaction.js';

export function consentEndpoint(services: Services): Router {
  const router = Router();
  const secure = services.config.publicUrl.startsWith('https:');
  const publicOrigin = new URL(services.config.publicUrl).origin;
  router.post('/t/:slug/interaction/:id/consent', resolveTenant(services), noStore,
    express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 5 }), refuseDefectiveBody,
    async (req: Request, res: Response) => {
      const { tenant, issuer } = tenantOf(res);
      if (!sameOrigin(req, publicOrigin)) return sendErrorPage(res, 403, 'The form was not sent from this site.');
      const found = await interactionForBrowser(services, req, res);
      if (!found) return;
      if (!formCsrfValid(req, found.interaction)) return sendErrorPage(res, 403, 'The form has expired. Start again from the application.');
      const decision = req.body.decision;
      if (decision !== 'allow' && decision !== 'deny') return sendErrorPage(res, 400, 'No decision was made.');

      const outcome = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
        const current = await loadInteraction(tx, tenant.id, found.interaction.id);
        if (!current?.subjectId || !current.subjectKind || !current.request.grantedScope) return null;
        const r = current.request;
        const subject = { kind: current.subjectKind, id: current.subjectId };
        await completeInteraction(tx, tenant.id, current.id);
        await recordAudit(tx, { tenantId: tenant.id, event: 'auth.consent', outcome: decision === 'allow' ? 'ok' : 'denied',
          actorKind: subject.kind, actorId: subject.id, clientId: r.clientId, requestId: String(req.id),
          detail: { resource: r.resource, scope: r.grantedScope!.join(' ') } });
        if (decision === 'deny') return { r, code: null };
        await tx`insert into oauth_consents (tenant_id, subject_kind, subject_id, client_id, resource, scope)
                 values (${tenant.id}, ${subject.kind}, ${subject.id}, ${r.clientId}, ${r.resource}, ${r.grantedScope!.join(' ')})
                 on conflict do nothing`;
        return { r, code: await issueCode(tx, tenant.id, r, subject, r.grantedScope!) };
      });
      if (!outcome) return sendErrorPage(res, 400, EXPIRED_MESSAGE);
      clearInteractionCookie(res, secure, tenant.slug, found.interaction.id);
      if (!outcome.code) return redirectError(res, issuer, outcome.r.redirectUri, outcome.r.state, new AccessDenied('user denied'));
      redirectWith(res, outcome.r.redirectUri, { code: outcome.code, state: outcome.r.state, iss: issuer });
    });
  return router;
}
