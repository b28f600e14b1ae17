// Sign-in (POST of the login form). Steps: same origin → CSRF → throttles → password → scope →
// remembered consent (straight to the client, when the client's identity is assured: O14) or the
// consent page. Uniform failure message and timing whether the account exists or not (O11).
import express, { Router, type Request, type Response } from 'express';
import { withContext, type Tx } from '../../db/context.js';
import type { Services } from '../../services.js';
import { hashPassword, verifyPassword } from '../../tenants/passwords.js';
import { recordAudit } from '../../audit/record.js';
import { TooManyRequests } from '../errors.js';
import { sendErrorPage } from '../html.js';
import { clientIp, noStore, refuseDefectiveBody, resolveTenant, tenantOf } from '../http.js';
import { formCsrfValid, interactionPath, sameOrigin } from '../interactions.js';
import { renderLogin } from '../pages.js';
import { DeviceCookies, deviceCookieKey } from '../device-cookie.js';
import type { SignInThrottle, Admission } from '../sign-in-throttle.js';
import type { Throttles } from '../throttle.js';
import { continueAfterSignIn } from '../signed-in.js';
import { interactionForBrowser } from './interaction.js';
import { upstreamOption } from '../federation/start.js';

const FAILED = 'Email or password is incorrect.';
let dummyHash: Promise<string> | undefined;
/** Made when the router is built, so that the first unknown account costs no more than any other (O11). */
function equaliser(): Promise<string> {
  if (!dummyHash) {
    dummyHash = hashPassword('commerce-mcp timing equaliser');
    dummyHash.catch(() => { dummyHash = undefined; });
  }
  return dummyHash;
}

interface Subject { id: string; password_hash: string; role: string | null }

async function findSubject(tx: Tx, kind: 'customer' | 'staff', email: string): Promise<Subject | undefined> {
  const [row] = kind === 'customer'
    ? await tx<Subject[]>`select id, password_hash, null::text as role from customers where email = ${email} and disabled_at is null`
    : await tx<Subject[]>`select id, password_hash, role::text as role from staff where email = ${email} and disabled_at is null`;
  return row;
}

export { hasConsent } from '../signed-in.js';

export function loginEndpoint(services: Services, throttles: Throttles, signIn: SignInThrottle): Router {
  const router = Router();
  const secure = services.config.publicUrl.startsWith('https:');
  const devices = deviceCookieKey(services.config).then((key) => new DeviceCookies(key, secure));
  devices.catch(() => {}); // a missing key fails the sign-ins that need it, not the start-up
  void equaliser();
  const publicOrigin = new URL(services.config.publicUrl).origin;
  router.post('/t/:slug/interaction/:id/login', resolveTenant(services), noStore,
    express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }), refuseDefectiveBody,
    async (req: Request, res: Response) => {
      const { tenant, issuer } = tenantOf(res);
      // Step: origin and CSRF (O8).
      if (!sameOrigin(req, publicOrigin)) return sendErrorPage(res, 403, 'The form was not sent from this site.');
      const found = await interactionForBrowser(services, req, res);
      if (!found) return;
      const { interaction, csrf } = found;
      if (!formCsrfValid(req, interaction)) return sendErrorPage(res, 403, 'The form has expired. Start again from the application.');
      const page = { tenantName: tenant.name, action: `${interactionPath(tenant.slug, interaction.id)}/login`, csrf };
      if (interaction.subjectId) return res.redirect(303, interactionPath(tenant.slug, interaction.id));
      // Step: passwords offered at all for this audience (a tenant may sign in only through its upstream).
      const upstream = await upstreamOption(services, tenant, interaction);
      if (upstream && !upstream.passwords) return sendErrorPage(res, 403, `Sign in with ${upstream.label}.`);

      const kind = interaction.request.resourceKind === 'internal' ? 'staff' : 'customer';
      const email = typeof req.body.email === 'string' ? req.body.email.trim().toLowerCase().slice(0, 254) : '';
      const password = typeof req.body.password === 'string' ? req.body.password.slice(0, 1024) : '';
      const account = `${tenant.id}:${kind}:${email}`;
      // Step: throttles, before any password work: per address (O11), then this account's guesses
      // from this browser — its device cookie, or its address and the account as a whole (O13).
      const cookies = await devices;
      let admission: Admission;
      try {
        await throttles.loginAttempt(clientIp(req));
        admission = await signIn.admit({ account, ip: clientIp(req), deviceNonce: cookies.verify(req, account) });
      } catch (e) {
        if (!(e instanceof TooManyRequests)) throw e;
        res.set('Retry-After', String(Math.max(1, e.retryAfterSeconds)));
        return renderLogin(res, page, interaction, { upstream, status: 429, error: 'Too many sign-in attempts. Try again later.' });
      }
      // Step: password (the same argon2 work when the account does not exist).
      const subject = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => findSubject(tx, kind, email));
      const ok = subject
        ? await verifyPassword(subject.password_hash, password)
        : (await verifyPassword(await equaliser(), password), false);
      if (!subject || !ok) {
        await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, (tx) => recordAudit(tx, {
          tenantId: tenant.id, event: 'auth.login_failed', outcome: 'denied', actorKind: 'anonymous', clientId: interaction.request.clientId,
          requestId: String(req.id), detail: { subject_kind: kind, known_account: Boolean(subject), ip: clientIp(req), device_cookie: admission.via === 'device' },
        }));
        return renderLogin(res, page, interaction, { upstream, status: 401, error: FAILED });
      }
      await signIn.succeeded(admission);
      cookies.issue(res, account, `/t/${tenant.slug}/interaction`);

      // Step: scope, then remembered consent or the consent page (shared with upstream sign-in).
      await continueAfterSignIn(services, req, res, { tenant, issuer, interaction, subject: { kind, id: subject.id, role: subject.role }, method: 'password' });
    });
  return router;
}

