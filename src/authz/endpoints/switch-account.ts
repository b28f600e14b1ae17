// "Not you?" on the consent page (issue 14): forgets who signed in to this authorization request
// and shows the sign-in form again. A POST with the interaction's CSRF token and a same-origin check
// (O8), like login and consent, so another site cannot sign a visitor out of their request. The
// request itself (client, redirect, PKCE, scope asked for) is kept; the granted scope is recomputed
// at the next sign-in.
import express, { Router, type Request, type Response } from 'express';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { sendErrorPage } from '../html.js';
import { noStore, resolveTenant, tenantOf } from '../http.js';
import { formCsrfValid, interactionPath, loadInteraction, sameOrigin } from '../interactions.js';
import { EXPIRED_MESSAGE, interactionForBrowser } from './interaction.js';

export function switchAccountEndpoint(services: Services): Router {
  const router = Router();
  const publicOrigin = new URL(services.config.publicUrl).origin;
  router.post('/t/:slug/interaction/:id/switch-account', resolveTenant(services), noStore,
    express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 5 }),
    async (req: Request, res: Response) => {
      const { tenant } = tenantOf(res);
      // Step: origin and CSRF (O8).
      if (!sameOrigin(req, publicOrigin)) return sendErrorPage(res, 403, 'The form was not sent from this site.');
      const found = await interactionForBrowser(services, req, res);
      if (!found) return;
      if (!formCsrfValid(req, found.interaction)) return sendErrorPage(res, 403, 'The form has expired. Start again from the application.');
      // Step: forget the subject (and the scope granted to it); back to the sign-in form.
      const ok = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
        const current = await loadInteraction(tx, tenant.id, found.interaction.id);
        if (!current) return false;
        if (current.subjectId) {
          const { grantedScope: _granted, ...request } = current.request;
          await tx`update oauth_interactions set subject_kind = null, subject_id = null, request = ${tx.json(request as never)}
                   where tenant_id = ${tenant.id} and id = ${current.id}`;
          await recordAudit(tx, { tenantId: tenant.id, event: 'auth.switch_account', outcome: 'ok', actorKind: current.subjectKind ?? 'anonymous',
            actorId: current.subjectId, clientId: current.request.clientId, requestId: String(req.id) });
        }
        return true;
      });
      if (!ok) return sendErrorPage(res, 400, EXPIRED_MESSAGE);
      res.redirect(303, interactionPath(tenant.slug, found.interaction.id));
    });
  return router;
}
