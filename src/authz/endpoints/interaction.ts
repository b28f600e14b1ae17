// The sign-in page of an authorization request: login first, then consent. GET only renders; the
// POSTs are endpoints/login.ts and endpoints/consent.ts.
import { Router, type Request, type Response } from 'express';
import { withContext, type Tx } from '../../db/context.js';
import type { Services } from '../../services.js';
import { sendErrorPage } from '../html.js';
import { noStore, resolveTenant, tenantOf } from '../http.js';
import { browserCsrf, interactionPath, loadInteraction, type Interaction } from '../interactions.js';
import { renderConsent, renderLogin } from '../pages.js';
import { upstreamOption } from '../federation/start.js';

export const EXPIRED_MESSAGE = 'This sign-in request has expired or was already used.';

/** Loads the interaction named in the path, for this browser; renders the error page otherwise. */
export async function interactionForBrowser(services: Services, req: Request, res: Response): Promise<{ interaction: Interaction; csrf: string } | null> {
  const { tenant } = tenantOf(res);
  const interaction = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => loadInteraction(tx, tenant.id, String(req.params.id)));
  if (!interaction) { sendErrorPage(res, 400, EXPIRED_MESSAGE); return null; }
  const csrf = browserCsrf(req, interaction);
  if (!csrf) { sendErrorPage(res, 403, 'This sign-in request was started in another browser. Start again from the application.'); return null; }
  return { interaction, csrf };
}

/** Who signed in to this request (the consent page names them, with "Not you?"). */
async function signedInAccount(tx: Tx, tenantId: string, interaction: Interaction): Promise<{ name: string; email: string; role: string | null } | null> {
  if (!interaction.subjectId) return null;
  const [row] = interaction.subjectKind === 'staff'
    ? await tx<{ name: string; email: string; role: string | null }[]>`
        select name, email, role::text as role from staff where tenant_id = ${tenantId} and id = ${interaction.subjectId} and disabled_at is null`
    : await tx<{ name: string; email: string; role: string | null }[]>`
        select name, email, null::text as role from customers where tenant_id = ${tenantId} and id = ${interaction.subjectId} and disabled_at is null`;
  return row ?? null;
}

export function interactionPage(services: Services): Router {
  const router = Router();
  router.get('/t/:slug/interaction/:id', resolveTenant(services), noStore, async (req, res) => {
    const found = await interactionForBrowser(services, req, res);
    if (!found) return;
    const { tenant } = tenantOf(res);
    const base = interactionPath(tenant.slug, found.interaction.id);
    if (!found.interaction.subjectId) {
      const upstream = await upstreamOption(services, tenant, found.interaction);
      // The upstream is the only way in: straight there (issue 13 §1).
      if (upstream && !upstream.passwords) return res.redirect(303, upstream.href);
      return renderLogin(res, { tenantName: tenant.name, action: `${base}/login`, csrf: found.csrf }, found.interaction, { upstream });
    }
    const account = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => signedInAccount(tx, tenant.id, found.interaction));
    if (!account) return sendErrorPage(res, 400, EXPIRED_MESSAGE);
    renderConsent(res, { tenantName: tenant.name, action: `${base}/consent`, csrf: found.csrf }, found.interaction,
      { ...account, switchAction: `${base}/switch-account` });
  });
  return router;
}
