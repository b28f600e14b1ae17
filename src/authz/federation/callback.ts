// GET /t/<slug>/federation/callback: the upstream provider's answer. Steps: state → the sign-in in
// flight (single use, unexpired) → this browser's binding cookie → its interaction → the code
// exchanged and the ID token verified (relying-party.ts) → the local account (link-account.ts) →
// our own consent and code (signed-in.ts). Upstream tokens go no further than this module.
import { timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { sendErrorPage } from '../html.js';
import { noStore, readCookie, resolveTenant, tenantOf } from '../http.js';
import { loadInteraction } from '../interactions.js';
import { continueAfterSignIn } from '../signed-in.js';
import { hashSecret } from '../tokens.js';
import { EXPIRED_MESSAGE } from '../endpoints/interaction.js';
import { linkAccount, type LinkOutcome } from './link-account.js';
import { finishUpstreamSignIn, UpstreamSignInError } from './relying-party.js';
import { federationKey } from './secret-box.js';
import { bindingCookieName, callbackPath, callbackUrl } from './start.js';
import { findProvider, providerClientSecret } from './upstream-config.js';

interface SignInRow { interaction_id: string; audience: 'customer' | 'staff'; browser_hash: string; nonce: string; code_verifier: string }

const REFUSALS: Record<Extract<LinkOutcome, { ok: false }>['reason'], string> = {
  no_role: 'Your account has no role here. Ask your administrator for access.',
  disabled: 'This account is disabled.',
  no_account: 'There is no account here for this sign-in.',
  email_taken: 'An account with this email already exists here and could not be linked.',
  no_subject: 'The sign-in could not be completed.',
};

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function upstreamCallbackEndpoint(services: Services): Router {
  const router = Router();
  const secure = services.config.publicUrl.startsWith('https:');
  const policy = { allowPrivateNetwork: services.config.allowPrivateNetworkFetch };
  router.get('/t/:slug/federation/callback', resolveTenant(services), noStore, async (req: Request, res: Response) => {
    const { tenant, issuer } = tenantOf(res);
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    if (!state || state.length > 200) return sendErrorPage(res, 400, EXPIRED_MESSAGE);
    const stateHash = hashSecret(state);
    const cookieName = bindingCookieName(stateHash);
    const browser = readCookie(req, cookieName);
    res.clearCookie(cookieName, { httpOnly: true, sameSite: 'lax', secure, path: callbackPath(tenant.slug) });

    // Step: the sign-in in flight, consumed now whatever happens next (a state is used once).
    const flight = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
      const [row] = await tx<SignInRow[]>`
        update upstream_sign_ins set consumed_at = now()
        where tenant_id = ${tenant.id} and state_hash = ${stateHash} and consumed_at is null and expires_at > now()
        returning interaction_id, audience, browser_hash, nonce, code_verifier`;
      return row;
    });
    if (!flight) return sendErrorPage(res, 400, EXPIRED_MESSAGE);
    // Step: the same browser that started it (login CSRF: someone else's callback URL is useless here).
    if (!browser || !sameHash(hashSecret(browser), flight.browser_hash)) {
      return sendErrorPage(res, 403, 'This sign-in was started in another browser. Start again from the application.');
    }
    const loaded = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => ({
      interaction: await loadInteraction(tx, tenant.id, flight.interaction_id),
      provider: await findProvider(tx, tenant.id, flight.audience),
    }));
    const { interaction, provider } = loaded;
    if (!interaction || interaction.subjectId || !provider) return sendErrorPage(res, 400, EXPIRED_MESSAGE);
    const shop = provider.displayName || tenant.name;

    const failed = async (reason: string, status: number, message: string, extra: Record<string, unknown> = {}) => {
      await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => recordAudit(tx, {
        tenantId: tenant.id, event: 'auth.login_failed', outcome: 'denied', actorKind: 'anonymous', clientId: interaction.request.clientId,
        requestId: String(req.id), detail: { method: 'upstream', subject_kind: flight.audience, reason, ...extra },
      }));
      sendErrorPage(res, status, message);
    };

    // Step: the code for tokens, and the ID token verified.
    let claims: Record<string, unknown>;
    try {
      const secret = providerClientSecret(await federationKey(services.config), provider);
      const url = new URL(`${callbackUrl(services.config.publicUrl, tenant.slug)}${new URL(req.originalUrl, 'http://x').search}`);
      claims = await finishUpstreamSignIn(provider, secret, callbackUrl(services.config.publicUrl, tenant.slug), url,
        { state, nonce: flight.nonce, codeVerifier: flight.code_verifier }, policy) as Record<string, unknown>;
    } catch (e) {
      const reason = e instanceof UpstreamSignInError ? e.reason : 'error';
      req.log?.info({ detail: (e as Error).message, reason }, 'upstream sign-in refused');
      if (reason === 'refused') return failed('upstream_refused', 403, `${shop} did not sign you in.`);
      if (reason === 'unavailable') return failed('upstream_unavailable', 502, `${shop} sign-in is not reachable right now. Try again later.`);
      return failed('id_token_invalid', 400, 'The sign-in could not be verified. Start again from the application.');
    }

    // Step: the local account.
    const linked = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => linkAccount(tx, provider, claims));
    if (!linked.ok) return failed(linked.reason, 403, REFUSALS[linked.reason]);
    await continueAfterSignIn(services, req, res, {
      tenant, issuer, interaction, subject: { kind: linked.kind, id: linked.id, role: linked.role }, method: 'upstream',
      detail: { issuer: provider.issuer, created: linked.created, linked: linked.linked },
    });
  });
  return router;
}
