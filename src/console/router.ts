// The approval console (docs/DESIGN.md §1, issue 5): staff sign in per tenant, see pending actions with
// their full context, approve or reject them with a reason; tenant admins set the phase and
// guardrails. Mounted on the INTERNAL listener. Server-rendered, no JavaScript, not frameable,
// CSRF-protected (origin check + form tokens bound to the session and to the action's state),
// 303 after every successful POST.
//
//   GET  /console/t/:slug/login            sign-in form
//   POST /console/t/:slug/login            email + password → session cookie
//   POST /console/t/:slug/logout
//   GET  /console/t/:slug                  pending actions and recent decisions
//   POST /console/t/:slug/actions/:id      decision=approve|reject, reason
//   GET  /console/t/:slug/settings         tenant admins: phase, guardrails, self-approval limit
//   POST /console/t/:slug/settings
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { approveAction, rejectAction, expireDueActions, ActionRefused } from '../actions/engine.js';
import { actionContext, getActionStatus, listActions, readActionSettings, updateActionSettings } from '../actions/status.js';
import { phaseSchema } from '../actions/guardrails.js';
import { recordAudit } from '../audit/record.js';
import { TooManyRequests } from '../authz/errors.js';
import { clientIp } from '../authz/http.js';
import { DeviceCookies, deviceCookieKey } from '../authz/device-cookie.js';
import { SignInThrottle, type Admission } from '../authz/sign-in-throttle.js';
import { Throttles } from '../authz/throttle.js';
import { setRequestContext, type Tx } from '../db/context.js';
import { findTextDefect } from '../text/defects.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/directory.js';
import { hashPassword, verifyPassword } from '../tenants/passwords.js';
import { guardrailsFromForm, renderConsole, renderLogin, renderSettings, sendConsoleError, type PendingView } from './pages.js';
import {
  LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL_SECONDS, clearCookie, consolePath, createSession, formToken, formTokenValid, loginTokenValid,
  newToken, readCookie, postFromConsoleOrigin, resumeSession, revokeSession, setCookie, type ConsoleSession,
} from './session.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FAILED_LOGIN = 'Email or password is incorrect.';
const CLIENT_ID = 'console';
let dummyHash: Promise<string> | undefined;
/** Made when the router is built, so that the first unknown account costs no more than any other (O11). */
function equaliser(): Promise<string> {
  if (!dummyHash) {
    dummyHash = hashPassword('commerce-mcp console timing equaliser');
    dummyHash.catch(() => { dummyHash = undefined; });
  }
  return dummyHash;
}

function decisionParts(a: { action_id: string; status: string; requested_at: string }): string[] {
  return ['decide', a.action_id, a.status, a.requested_at];
}

export function approvalConsole(services: Services): Router {
  const router = Router();
  const { config, sql } = services;
  const secure = config.internalUrl.startsWith('https:') || config.publicUrl.startsWith('https:');
  // L3: only the console's own origin may post (the public listener's is another site's as far as
  // the console is concerned; on a single listener the two are the same).
  const consoleOrigin = new URL(config.internalUrl).origin;
  const throttles = new Throttles(services.rateLimits);
  const signIn = new SignInThrottle(sql);
  const devices = deviceCookieKey(config).then((key) => new DeviceCookies(key, secure));
  devices.catch(() => {}); // a missing key fails the sign-ins that need it, not the start-up
  void equaliser();
  // E1: a NUL or unpaired surrogate in any form field is refused (400), never stored or a 500.
  const parseForm = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 40 });
  const form = (req: Request, res: Response, next: NextFunction) => parseForm(req, res, (error?: unknown) => {
    if (error) return next(error);
    if (findTextDefect(req.body)) return sendConsoleError(res, 400, null, 'The form contains characters that are not text.');
    next();
  });

  const tenantOf = (res: Response): Tenant => res.locals.consoleTenant as Tenant;
  const resolve = async (req: Request, res: Response, next: NextFunction) => {
    const tenant = await services.tenants.bySlug(String(req.params.slug ?? ''));
    if (!tenant) return sendConsoleError(res, 404, null, 'No such shop.');
    res.locals.consoleTenant = tenant;
    next();
  };
  const checkOrigin = (req: Request, res: Response, next: NextFunction) => {
    if (!postFromConsoleOrigin(req, consoleOrigin)) return sendConsoleError(res, 403, null, 'The form was not sent from this site.');
    next();
  };
  /**
   * Runs `work` in one transaction as the signed-in staff member, or sends the visitor to sign in.
   * `work` returns the reply, which is sent only once the transaction has committed: a 303 never
   * announces a decision that could still roll back.
   */
  type Reply = () => void;
  const asSignedIn = async (req: Request, res: Response, work: (tx: Tx, s: ConsoleSession) => Promise<Reply>): Promise<void> => {
    const tenant = tenantOf(res);
    const reply = await sql.begin(async (tx) => {
      const session = await resumeSession(tx, tenant.id, readCookie(req, SESSION_COOKIE));
      return session ? work(tx, session) : null;
    }) as Reply | null;
    if (reply) return reply();
    if (req.method === 'GET') return res.redirect(303, `${consolePath(tenant.slug)}/login`);
    return sendConsoleError(res, 401, tenant.slug, 'Your session has ended. Sign in again; nothing was changed.');
  };

  const loginPage = (res: Response, tenant: Tenant, extra: { email?: string; error?: string; status?: number } = {}) => {
    const csrf = newToken();
    setCookie(res, LOGIN_COOKIE, csrf, tenant.slug, secure, 600);
    renderLogin(res, { tenantName: tenant.name, slug: tenant.slug, csrf, ...extra });
  };

  router.get('/console/t/:slug/login', resolve, (_req, res) => loginPage(res, tenantOf(res)));

  router.post('/console/t/:slug/login', resolve, checkOrigin, form, async (req, res) => {
    const tenant = tenantOf(res);
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase().slice(0, 254) : '';
    const password = typeof req.body?.password === 'string' ? req.body.password.slice(0, 1024) : '';
    if (!loginTokenValid(req, req.body?.csrf)) return loginPage(res, tenant, { email, error: 'The form expired. Try again.', status: 403 });
    const account = `console:${tenant.id}:${email}`;
    // O11 per address; O13 this account's guesses from this browser (device cookie, or address and account).
    const cookies = await devices;
    let admission: Admission;
    try {
      await throttles.loginAttempt(clientIp(req));
      admission = await signIn.admit({ account, ip: clientIp(req), deviceNonce: cookies.verify(req, account) });
    } catch (e) {
      if (!(e instanceof TooManyRequests)) throw e;
      res.set('Retry-After', String(Math.max(1, e.retryAfterSeconds)));
      return loginPage(res, tenant, { email, error: 'Too many sign-in attempts. Try again later.', status: 429 });
    }
    const staff = await sql.begin(async (tx) => {
      await setRequestContext(tx, { kind: 'auth', tenantId: tenant.id });
      const [row] = await tx<{ id: string; password_hash: string }[]>`
        select id, password_hash from staff where tenant_id = ${tenant.id} and email = ${email} and disabled_at is null`;
      return row;
    });
    const ok = staff
      ? await verifyPassword(staff.password_hash, password)
      : (await verifyPassword(await equaliser(), password), false);
    if (!staff || !ok) {
      await sql.begin(async (tx) => {
        await setRequestContext(tx, { kind: 'auth', tenantId: tenant.id });
        await recordAudit(tx, { tenantId: tenant.id, event: 'console.login_failed', outcome: 'denied', actorKind: 'anonymous', clientId: CLIENT_ID,
          requestId: String(req.id), detail: { known_account: Boolean(staff), ip: clientIp(req) } });
      });
      return loginPage(res, tenant, { email, error: FAILED_LOGIN, status: 401 });
    }
    await signIn.succeeded(admission);
    cookies.issue(res, account, consolePath(tenant.slug));
    const token = await sql.begin(async (tx) => {
      await setRequestContext(tx, { kind: 'auth', tenantId: tenant.id });
      const t = await createSession(tx, tenant.id, staff.id);
      await recordAudit(tx, { tenantId: tenant.id, event: 'console.login', outcome: 'ok', actorKind: 'staff', actorId: staff.id, clientId: CLIENT_ID,
        requestId: String(req.id) });
      return t;
    });
    clearCookie(res, LOGIN_COOKIE, tenant.slug, secure);
    setCookie(res, SESSION_COOKIE, token, tenant.slug, secure, SESSION_TTL_SECONDS);
    res.redirect(303, consolePath(tenant.slug));
  });

  router.post('/console/t/:slug/logout', resolve, checkOrigin, form, async (req, res) => {
    const tenant = tenantOf(res);
    await asSignedIn(req, res, async (tx, session) => {
      if (!formTokenValid(session, req.body?.csrf, 'logout')) return () => sendConsoleError(res, 403, tenant.slug, 'The form expired.');
      await revokeSession(tx, tenant.id, session.token);
      return () => {
        clearCookie(res, SESSION_COOKIE, tenant.slug, secure);
        res.redirect(303, `${consolePath(tenant.slug)}/login`);
      };
    });
  });

  router.get('/console/t/:slug', resolve, async (req, res) => {
    const tenant = tenantOf(res);
    await asSignedIn(req, res, async (tx, session) => {
      await expireDueActions(tx, tenant.id);
      const pendingActions = await listActions(tx, tenant.id, { status: 'pending', limit: 100 });
      const pending: PendingView[] = [];
      for (const action of pendingActions) {
        const { context, refusal } = await actionContext(tx, tenant.id, action);
        pending.push({ action, context, refusal, csrf: formToken(session, ...decisionParts(action)) });
      }
      const recent = (await listActions(tx, tenant.id, { limit: 40 })).filter((a) => a.status !== 'pending').slice(0, 25);
      const done = typeof req.query.done === 'string' ? req.query.done : undefined;
      const action = typeof req.query.action === 'string' && UUID.test(req.query.action) ? req.query.action : undefined;
      return () => renderConsole(res, { tenantName: tenant.name, slug: tenant.slug, me: session.staff, pending, recent,
        logoutCsrf: formToken(session, 'logout'), notice: done, noticeAction: action });
    });
  });

  // The link in action.pending webhooks (docs/WEBHOOKS.md): the action on the console page (which
  // asks for sign-in first when needed). Nothing is decided by a GET.
  router.get('/console/t/:slug/actions/:id', resolve, (req, res) => {
    const id = String(req.params.id);
    const tenant = tenantOf(res);
    res.redirect(303, UUID.test(id) ? `${consolePath(tenant.slug)}#action-${id}` : consolePath(tenant.slug));
  });

  router.post('/console/t/:slug/actions/:id', resolve, checkOrigin, form, async (req, res) => {
    const tenant = tenantOf(res);
    const id = String(req.params.id);
    await asSignedIn(req, res, async (tx, session) => {
      const current = UUID.test(id) ? await getActionStatus(tx, tenant.id, id) : null;
      if (!current) return () => sendConsoleError(res, 404, tenant.slug, 'No such action.');
      // The token commits to the action's state when the form was shown: a decided action's form is dead.
      if (!formTokenValid(session, req.body?.csrf, ...decisionParts(current))) {
        await recordAudit(tx, { tenantId: tenant.id, event: 'action.decision_refused', outcome: 'denied', actorKind: 'staff', actorId: session.staff.staffId,
          clientId: CLIENT_ID, requestId: String(req.id), tool: current.tool, detail: { action_id: id, code: 'stale_form', status: current.status } });
        return current.status !== 'pending'
          ? () => sendConsoleError(res, 409, tenant.slug, `This form is no longer valid: action ${id} is already ${current.status}.`)
          : () => sendConsoleError(res, 403, tenant.slug, 'This form is not valid for this session. Reload the page and try again.');
      }
      const decision = req.body?.decision;
      const reason = typeof req.body?.reason === 'string' ? req.body.reason.trim().slice(0, 1000) : '';
      if (decision !== 'approve' && decision !== 'reject') return () => sendConsoleError(res, 400, tenant.slug, 'Choose approve or reject.');
      if (decision === 'reject' && !reason) return () => sendConsoleError(res, 400, tenant.slug, 'A rejection needs a reason. Go back and write one.');
      const d = { tenantId: tenant.id, actionId: id, staffId: session.staff.staffId, reason: reason || null, clientId: CLIENT_ID, requestId: String(req.id) };
      const outcome = decision === 'approve' ? await approveAction(tx, d) : await rejectAction(tx, d);
      if (outcome.status === 'refused') {
        return () => sendConsoleError(res, outcome.code === 'not_pending' || outcome.code === 'expired' ? 409 : 403, tenant.slug, outcome.message);
      }
      return () => res.redirect(303, `${consolePath(tenant.slug)}?done=${outcome.status}&action=${id}`);
    });
  });

  const notAdmin = (res: Response, s: ConsoleSession): Reply | null =>
    s.staff.role === 'tenant_admin' ? null : () => sendConsoleError(res, 403, tenantOf(res).slug, 'Only a tenant admin may change the phase and guardrails.');
  const settingsParts = (updatedAt: string) => ['settings', updatedAt];
  const settingsStamp = async (tx: Tx, tenantId: string) => {
    const [row] = await tx<{ updated_at: Date }[]>`select updated_at from tenant_settings where tenant_id = ${tenantId}`;
    return row?.updated_at.toISOString() ?? '';
  };

  router.get('/console/t/:slug/settings', resolve, async (req, res) => {
    const tenant = tenantOf(res);
    await asSignedIn(req, res, async (tx, session) => {
      const refused = notAdmin(res, session);
      if (refused) return refused;
      const settings = await readActionSettings(tx, tenant.id);
      const csrf = formToken(session, ...settingsParts(await settingsStamp(tx, tenant.id)));
      return () => renderSettings(res, { tenantName: tenant.name, slug: tenant.slug, settings, saved: req.query.saved === '1', csrf });
    });
  });

  router.post('/console/t/:slug/settings', resolve, checkOrigin, form, async (req, res) => {
    const tenant = tenantOf(res);
    await asSignedIn(req, res, async (tx, session) => {
      const refused = notAdmin(res, session);
      if (refused) return refused;
      const stamp = await settingsStamp(tx, tenant.id);
      if (!formTokenValid(session, req.body?.csrf, ...settingsParts(stamp))) {
        return () => sendConsoleError(res, 409, tenant.slug, 'The settings changed since this form was shown (or it expired). Reload and try again.');
      }
      const current = await readActionSettings(tx, tenant.id);
      const again = (error: string): Reply => () => renderSettings(res, { tenantName: tenant.name, slug: tenant.slug, settings: current, error, status: 400,
        csrf: formToken(session, ...settingsParts(stamp)) });
      const phase = phaseSchema.safeParse(Number(req.body?.phase));
      if (!phase.success) return again('Choose phase 1, 2 or 3.');
      const limit = Number(typeof req.body?.self_approval_limit_cents === 'string' ? req.body.self_approval_limit_cents.trim() || '0' : 'x');
      if (!Number.isInteger(limit) || limit < 0) return again('The self-approval limit is a whole number of cents, 0 or more.');
      const { guardrails, error } = guardrailsFromForm(req.body ?? {});
      if (error) return again(error);
      try {
        await updateActionSettings(tx, tenant.id, { phase: phase.data, guardrails, selfApprovalLimitCents: limit },
          { actor: { kind: 'staff', tenantId: tenant.id, staffId: session.staff.staffId, role: session.staff.role }, clientId: CLIENT_ID, requestId: String(req.id) });
      } catch (e) {
        if (e instanceof ActionRefused) return again(e.message);
        throw e;
      }
      return () => res.redirect(303, `${consolePath(tenant.slug)}/settings?saved=1`);
    });
  });

  return router;
}
