// GET /t/<slug>/interaction/<id>/upstream: "Continue with <shop>". Steps: this browser's interaction
// (its cookie) → nobody signed in yet → the tenant's provider for the audience → an authorization
// request upstream (PKCE, state, nonce: relying-party.ts) whose state, nonce and verifier are kept
// in upstream_sign_ins, bound to this browser by a cookie only our callback path receives → 303.
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { sendErrorPage } from '../html.js';
import { noStore, resolveTenant, tenantOf } from '../http.js';
import { interactionPath, type Interaction } from '../interactions.js';
import type { UpstreamOption } from '../pages.js';
import { hashSecret } from '../tokens.js';
import { interactionForBrowser } from '../endpoints/interaction.js';
import { beginUpstreamSignIn, UpstreamSignInError } from './relying-party.js';
import { findProvider } from './upstream-config.js';

export const UPSTREAM_SIGN_IN_TTL_SECONDS = 600;

export function callbackPath(slug: string): string {
  return `/t/${slug}/federation/callback`;
}

/** The redirect URI registered at the upstream provider: one per tenant. */
export function callbackUrl(publicUrl: string, slug: string): string {
  return `${publicUrl}${callbackPath(slug)}`;
}

/** One binding cookie per sign-in in flight, named after its state so two tabs do not collide. */
export function bindingCookieName(stateHash: string): string {
  return `cmcp_up_${stateHash.slice(0, 16)}`;
}

/** The login page's "Continue with <shop>" for this interaction, when the tenant has a provider for its audience. */
export async function upstreamOption(services: Services, tenant: { id: string; slug: string; name: string }, interaction: Interaction): Promise<UpstreamOption | null> {
  const audience = interaction.request.resourceKind === 'internal' ? 'staff' : 'customer';
  const provider = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => findProvider(tx, tenant.id, audience));
  if (!provider) return null;
  return { label: provider.displayName || tenant.name, href: `${interactionPath(tenant.slug, interaction.id)}/upstream`, passwords: provider.passwordsEnabled };
}

export function upstreamStartEndpoint(services: Services): Router {
  const router = Router();
  const secure = services.config.publicUrl.startsWith('https:');
  const policy = { allowPrivateNetwork: services.config.allowPrivateNetworkFetch };
  router.get('/t/:slug/interaction/:id/upstream', resolveTenant(services), noStore, async (req: Request, res: Response) => {
    const { tenant } = tenantOf(res);
    const found = await interactionForBrowser(services, req, res);
    if (!found) return;
    const { interaction } = found;
    if (interaction.subjectId) return res.redirect(303, interactionPath(tenant.slug, interaction.id));
    const audience = interaction.request.resourceKind === 'internal' ? 'staff' : 'customer';
    const provider = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => findProvider(tx, tenant.id, audience));
    if (!provider) return sendErrorPage(res, 404, 'This shop offers no other way to sign in.');
    let upstream;
    try {
      upstream = await beginUpstreamSignIn(provider, callbackUrl(services.config.publicUrl, tenant.slug), policy);
    } catch (e) {
      req.log?.warn({ detail: (e as Error).message, reason: e instanceof UpstreamSignInError ? e.reason : 'error' }, 'upstream sign-in could not start');
      return sendErrorPage(res, 502, `${provider.displayName || tenant.name} sign-in is not reachable right now. Try again later.`);
    }
    const browser = randomBytes(32).toString('base64url');
    const stateHash = hashSecret(upstream.state);
    await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
      // Sign-ins abandoned at the provider are removed by the next one (an hour after they expired).
      await tx`delete from upstream_sign_ins where tenant_id = ${tenant.id} and expires_at < now() - interval '1 hour'`;
      await tx`
      insert into upstream_sign_ins (tenant_id, state_hash, interaction_id, audience, browser_hash, nonce, code_verifier, expires_at)
      values (${tenant.id}, ${stateHash}, ${interaction.id}, ${audience}, ${hashSecret(browser)}, ${upstream.nonce}, ${upstream.codeVerifier},
              now() + make_interval(secs => ${UPSTREAM_SIGN_IN_TTL_SECONDS}))`;
    });
    // SameSite=Lax: the callback is a top-level GET from the provider's site, which Lax cookies accompany.
    res.cookie(bindingCookieName(stateHash), browser, { httpOnly: true, sameSite: 'lax', secure, path: callbackPath(tenant.slug), maxAge: UPSTREAM_SIGN_IN_TTL_SECONDS * 1000 });
    res.redirect(303, upstream.authorizationUrl);
  });
  return router;
}
