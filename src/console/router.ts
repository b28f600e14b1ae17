// The approval console (docs/DESIGN.md §1, issue 5): staff sign in per tenant, see pending actions with
// their full context, approve or reject them with a reason; tenant admins set the phase and
// guardrails. Mounted on the INTERNAL listener. Server-rendered, no JavaScript, not frameable,
// CSRF-protected (origin check + form tokens bound to the session and to the action's state),
// 303 after every successful POST.
//
//   GET  /console/t/:slug/login            sign-in form
//   POST /console/t/:slug/login            email + password → session cookie
//   POST /console/t/:slug/logout
//   GET  /console/t/:slug                  pending actions and recent decisions; ?status=&tool=&requester= filter
//   GET  /console/t/:slug/actions/:id      one action: what it does, why it waits, history (what links point at)
//   POST /console/t/:slug/actions/:id      decision=approve|reject (reason) | withdraw (the requester)
//   GET  /console/t/:slug/settings         tenant admins: phase, guardrails, self-approval limit
//   POST /console/t/:slug/settings
//   GET  /console/t/:slug/settings/sign-in   tenant admins: upstream sign-in and the enterprise IdP (issue 13)
//   POST /console/t/:slug/settings/sign-in
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { approveAction, rejectAction, withdrawAction, expireDueActions, ActionRefused } from '../actions/engine.js';
import { tenantCurrency } from '../actions/executor.js';
import {
  actionContext, actionHistory, getActionStatus, listActions, readActionSettings, readTimeZone, requesters, timeZoneSchema, updateActionSettings, updateTimeZone, waitReasonOf, waitReasons,
  type ActionStatus,
} from '../actions/status.js';
import { phaseSchema, WRITE_TOOLS } from '../actions/guardrails.js';
import { clientNames } from '../authz/clients.js';
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
import { federationKey } from '../authz/federation/secret-box.js';
import { listProviders, PROVIDER_AUDIENCES, ProviderSettingsError, removeProvider, saveProvider, type ProviderAudience } from '../authz/federation/upstream-config.js';
import { providerFromForm, renderSignInSettings, signInSettingsPath } from './sign-in-settings.js';
import {
  STATUS_FILTERS, guardrailsFromForm, moneyFromForm, renderActionPage, renderConsole, renderLogin, renderSettings, sendConsoleError,
  type ActionView, type ConsoleFrame, type ListFilters,
} from './pages.js';
import {
  LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL_SECONDS, clearCookie, consolePath, createSession, formToken, formTokenValid, loginTokenValid,
  newToken, postFromConsoleOrigin, readAsAuthStep, readCookie, resumeSession, revokeSession, setCookie, type ConsoleSession,
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

/** The list's filters (GET query): anything not one of the known values is no filter at all. */
const listFilters = z.object({
  status: z.enum(STATUS_FILTERS).optional().catch(undefined),
  tool: z.enum(WRITE_TOOLS).optional().catch(undefined),
  requester: z.string().regex(UUID).optional().catch(undefined),
});

/** Where a decision came from; the answer goes back there. */
const NOTICE_OF: Record<string, string> = { executed: 'executed', rejected: 'rejected', failed: 'failed', withdrawn: 'withdrawn' };

/** The shop's currency and time zone, who is signed in, and the sign-out form's token. */
async function frameOf(tx: Tx, tenant: Tenant, session: ConsoleSession): Promise<ConsoleFrame> {
  return { tenantName: tenant.name, slug: tenant.slug, me: session.staff, logoutCsrf: formToken(session, 'logout'),
    currency: await tenantCurrency(tx, tenant.id), timeZone: (await readTimeZone(tx, tenant.id)) ?? 'UTC' };
}

/** The cards' data: the executor's current reading, client names, why each waits, form tokens. */
async function viewsOf(tx: Tx, tenantId: string, session: ConsoleSession, actions: ActionStatus[], reasons?: Map<string, string>): Promise<ActionView[]> {
  const clients = await readAsAuthStep(tx, session, (auth) => clientNames(auth, tenantId, actions.map((a) => a.client_id)));
  const why = reasons ?? await waitReasons(tx, tenantId, actions.filter((a) => a.status === 'pending').map((a) => a.action_id));
  const views: ActionView[] = [];
  for (const action of actions) {
    const pending = action.status === 'pending';
    const { context, refusal } = pending ? await actionContext(tx, tenantId, action) : { context: null, refusal: null };
    views.push({ action, context, refusal, csrf: pending ? formToken(session, ...decisionParts(action)) : null,
      client: clients.get(action.client_id) ?? null, waitReason: why.get(action.action_id) ?? null });
  }
  return views;
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
      const q = listFilters.parse({ status: req.query.status || undefined, tool: req.query.tool || undefined, requester: req.query.requester || undefined });
      const filters: ListFilters = q;
      const scope = { tool: q.tool, requestedBy: q.requester };
      const pendingActions = !q.status || q.status === 'pending' ? await listActions(tx, tenant.id, { ...scope, status: 'pending', limit: 100 }) : [];
      const decided = q.status === 'pending' ? []
        : q.status ? await listActions(tx, tenant.id, { ...scope, status: q.status, limit: 100 })
        : (await listActions(tx, tenant.id, { ...scope, limit: 60 })).filter((a) => a.status !== 'pending').slice(0, 40);
      const pending = await viewsOf(tx, tenant.id, session, pendingActions);
      const frame = await frameOf(tx, tenant, session);
      const people = await requesters(tx, tenant.id);
      const done = typeof req.query.done === 'string' ? req.query.done : undefined;
      const action = typeof req.query.action === 'string' && UUID.test(req.query.action) ? req.query.action : undefined;
      return () => renderConsole(res, { frame, pending, decided, filters, requesters: people, notice: done, noticeAction: action });
    });
  });

  router.get('/console/t/:slug/actions/:id', resolve, async (req, res) => {
    const tenant = tenantOf(res);
    const id = String(req.params.id);
    await asSignedIn(req, res, async (tx, session) => {
      await expireDueActions(tx, tenant.id);
      const action = UUID.test(id) ? await getActionStatus(tx, tenant.id, id) : null;
      if (!action) return () => sendConsoleError(res, 404, tenant.slug, 'No such action.');
      const entries = await actionHistory(tx, tenant.id, id);
      const reason = waitReasonOf(entries);
      const [view] = await viewsOf(tx, tenant.id, session, [action], new Map(reason ? [[id, reason]] : []));
      const frame = await frameOf(tx, tenant, session);
      const done = typeof req.query.done === 'string' ? req.query.done : undefined;
      return () => renderActionPage(res, { frame, view: view!, history: entries, notice: done });
    });
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
      if (decision !== 'approve' && decision !== 'reject' && decision !== 'withdraw') return () => sendConsoleError(res, 400, tenant.slug, 'Choose approve or reject.');
      if (decision === 'reject' && !reason) return () => sendConsoleError(res, 400, tenant.slug, 'A rejection needs a reason. Go back and write one.');
      const d = { tenantId: tenant.id, actionId: id, staffId: session.staff.staffId, reason: reason || null, clientId: CLIENT_ID, requestId: String(req.id) };
      const outcome = decision === 'approve' ? await approveAction(tx, d) : decision === 'withdraw' ? await withdrawAction(tx, d) : await rejectAction(tx, d);
      if (outcome.status === 'refused') {
        return () => sendConsoleError(res, outcome.code === 'not_pending' || outcome.code === 'expired' ? 409 : 403, tenant.slug, outcome.message);
      }
      const notice = NOTICE_OF[decision === 'withdraw' ? 'withdrawn' : outcome.status] ?? outcome.status;
      // Back where the form was: the action's own page, or the list.
      return () => res.redirect(303, req.body?.from === 'page'
        ? `${consolePath(tenant.slug)}/actions/${id}?done=${notice}`
        : `${consolePath(tenant.slug)}?done=${notice}&action=${id}`);
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
      const frame = await frameOf(tx, tenant, session);
      return () => renderSettings(res, { frame, settings, saved: req.query.saved === '1', csrf });
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
      const frame = await frameOf(tx, tenant, session);
      const again = (error: string): Reply => () => renderSettings(res, { frame, settings: current, error, status: 400,
        csrf: formToken(session, ...settingsParts(stamp)) });
      const phase = phaseSchema.safeParse(Number(req.body?.phase));
      if (!phase.success) return again('Choose phase 1, 2 or 3.');
      const self = moneyFromForm(typeof req.body?.self_approval_limit === 'string' ? req.body.self_approval_limit.trim() || '0' : 'x', frame.currency);
      if (self.error || self.cents === undefined) return again(`The self-approval limit: enter ${self.error ?? 'an amount'} (${frame.currency}).`);
      const limit = self.cents;
      const { guardrails, error } = guardrailsFromForm(req.body ?? {}, frame.currency);
      if (error) return again(error);
      const zoneField = typeof req.body?.time_zone === 'string' ? req.body.time_zone.trim() : '';
      const zone = zoneField === '' || zoneField.toUpperCase() === 'UTC' ? null : timeZoneSchema.safeParse(zoneField);
      if (zone && !zone.success) return again(`Time zone: ${zone.error.issues[0]?.message ?? 'not a time zone'} (an IANA name such as Europe/Amsterdam, or empty for UTC).`);
      try {
        await updateActionSettings(tx, tenant.id, { phase: phase.data, guardrails, selfApprovalLimitCents: limit },
          { actor: { kind: 'staff', tenantId: tenant.id, staffId: session.staff.staffId, role: session.staff.role }, clientId: CLIENT_ID, requestId: String(req.id) });
        await updateTimeZone(tx, tenant.id, zone ? zone.data! : null,
          { actor: { kind: 'staff', tenantId: tenant.id, staffId: session.staff.staffId, role: session.staff.role }, clientId: CLIENT_ID, requestId: String(req.id) });
      } catch (e) {
        if (e instanceof ActionRefused) return again(e.message);
        throw e;
      }
      return () => res.redirect(303, `${consolePath(tenant.slug)}/settings?saved=1`);
    });
  });

  // Sign-in settings (issue 13): the form token is bound to the providers' last change.
  const signInParts = (stamp: string) => ['sign-in', stamp];
  const signInStamp = async (tx: Tx, tenantId: string) => {
    const [row] = await tx<{ stamp: string }[]>`select coalesce(max(updated_at)::text, '') || ':' || count(*) as stamp from tenant_identity_providers where tenant_id = ${tenantId}`;
    return row?.stamp ?? '';
  };
  router.get('/console/t/:slug/settings/sign-in', resolve, async (req, res) => {
    const tenant = tenantOf(res);
    await asSignedIn(req, res, async (tx, session) => {
      const refused = notAdmin(res, session);
      if (refused) return refused;
      const providers = await listProviders(tx, tenant.id);
      const csrf = formToken(session, ...signInParts(await signInStamp(tx, tenant.id)));
      return () => renderSignInSettings(res, { tenantName: tenant.name, slug: tenant.slug, publicUrl: config.publicUrl, providers, csrf, saved: req.query.saved === '1' });
    });
  });
  router.post('/console/t/:slug/settings/sign-in', resolve, checkOrigin, form, async (req, res) => {
    const tenant = tenantOf(res);
    const key = await federationKey(config);
    await asSignedIn(req, res, async (tx, session) => {
      const refused = notAdmin(res, session);
      if (refused) return refused;
      const stamp = await signInStamp(tx, tenant.id);
      if (!formTokenValid(session, req.body?.csrf, ...signInParts(stamp))) {
        return () => sendConsoleError(res, 409, tenant.slug, 'The sign-in settings changed since this form was shown (or it expired). Reload and try again.');
      }
      const audience = req.body?.audience as ProviderAudience;
      if (!PROVIDER_AUDIENCES.includes(audience)) return () => sendConsoleError(res, 400, tenant.slug, 'No such sign-in setting.');
      const body = (req.body ?? {}) as Record<string, unknown>;
      try {
        if (body.op === 'remove') await removeProvider(tx, tenant.id, audience);
        else await saveProvider(tx, key, tenant.id, audience, providerFromForm(audience, body));
      } catch (e) {
        if (!(e instanceof ProviderSettingsError)) throw e;
        const providers = await listProviders(tx, tenant.id);
        return () => renderSignInSettings(res, { tenantName: tenant.name, slug: tenant.slug, publicUrl: config.publicUrl, providers, status: 400,
          error: e.message, csrf: formToken(session, ...signInParts(stamp)) });
      }
      await recordAudit(tx, { tenantId: tenant.id, event: 'console.sign_in_settings', outcome: 'ok', actorKind: 'staff', actorId: session.staff.staffId,
        clientId: CLIENT_ID, requestId: String(req.id), detail: { audience, op: body.op === 'remove' ? 'remove' : 'save' } });
      return () => res.redirect(303, `${signInSettingsPath(tenant.slug)}?saved=1`);
    });
  });

  return router;
}
