// O8, O9, O10: the login and consent pages resist CSRF and framing, and every authorization response
// names its issuer (RFC 9207) and follows a POST with 303 (RFC 9700 §4.12).
import { Browser, csrfOf, formAction } from '../http.js';
import { AttackContext } from '../context.js';
import { obtainCode, openLoginPage } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { authorizeOnce, describeAnswer } from './common.js';

function refused(res: Response): boolean {
  const loc = res.headers.get('location') ?? '';
  return res.status >= 400 && res.status < 500 && !/[?&]code=/.test(loc);
}

export const o8: AttackRow = {
  id: 'O8',
  title: 'CSRF on login/consent (no form token, another origin, another browser)',
  expected: 'rejected, no code',
  async run(ctx) {
    const c = new Checks();
    const user = ctx.credentials('customer');
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, 'catalog cart');
    const as = r.discovery.as;
    const page = await openLoginPage(ctx.http, as, r);
    const action = formAction(page.html)!;
    const csrf = csrfOf(page.html)!;
    const form = { email: user.login, password: user.password };
    const noToken = await page.browser.post(action, form);
    c.expect('login POST without the form token', refused(noToken), `${noToken.status}`);
    const wrongToken = await page.browser.post(action, { ...form, csrf: csrf.slice(0, -2) + 'xx' });
    c.expect('login POST with a wrong token', refused(wrongToken), `${wrongToken.status}`);
    const foreign = await page.browser.post(action, { ...form, csrf }, { origin: 'https://evil.example' });
    c.expect('login POST from another origin', refused(foreign), `${foreign.status}`);
    const crossSite = await page.browser.fetch(action, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ ...form, csrf }).toString(),
    });
    c.expect('login POST marked cross-site (no Origin)', refused(crossSite), `${crossSite.status}`);
    const stranger = new Browser(ctx.http, page.browser.origin);
    const otherBrowser = await stranger.post(action, { ...form, csrf });
    c.expect('login POST from a browser without the interaction cookie', refused(otherBrowser), `${otherBrowser.status}`);
    // Consent: sign in properly, then attack the consent form.
    const login = await page.browser.post(action, { ...form, csrf });
    const consentUrl = login.headers.get('location') ?? '';
    if (!c.expect('genuine sign-in leads to the consent page', login.status === 303 && consentUrl.includes('/interaction/'), `${login.status} → ${consentUrl}`)) return c.result();
    const consent = await page.browser.fetch(consentUrl);
    const html = await consent.text();
    const consentAction = formAction(html)!;
    const consentCsrf = csrfOf(html)!;
    const noTokenConsent = await page.browser.post(consentAction, { decision: 'allow' });
    c.expect('consent POST without the form token', refused(noTokenConsent), `${noTokenConsent.status}`);
    const foreignConsent = await page.browser.post(consentAction, { decision: 'allow', csrf: consentCsrf }, { origin: 'https://evil.example' });
    c.expect('consent POST from another origin', refused(foreignConsent), `${foreignConsent.status}`);
    const strangerConsent = await stranger.post(consentAction, { decision: 'allow', csrf: consentCsrf });
    c.expect('consent POST from another browser', refused(strangerConsent), `${strangerConsent.status}`);
    const getConsent = await page.browser.fetch(`${consentAction}?decision=allow&csrf=${encodeURIComponent(consentCsrf)}`);
    c.expect('consent by GET', !/[?&]code=/.test(getConsent.headers.get('location') ?? ''), `${getConsent.status}`);
    // Finish without granting anything.
    await page.browser.post(consentAction, { decision: 'deny', csrf: consentCsrf });
    return c.result();
  },
};

function frameChecks(c: Checks, name: string, headers: Headers | undefined): void {
  if (!headers) { c.expect(`${name}: page reached`, false, 'not reached'); return; }
  const csp = headers.get('content-security-policy') ?? '';
  c.expect(`${name}: CSP frame-ancestors 'none'`, /frame-ancestors\s+'none'/.test(csp), csp || 'no Content-Security-Policy');
  c.expect(`${name}: X-Frame-Options DENY`, (headers.get('x-frame-options') ?? '').toUpperCase() === 'DENY', headers.get('x-frame-options') ?? 'absent');
}

export const o9: AttackRow = {
  id: 'O9',
  title: 'framing the login/consent page',
  expected: "CSP frame-ancestors 'none' and X-Frame-Options: DENY",
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, 'orders catalog');
    const as = r.discovery.as;
    const page = await openLoginPage(ctx.http, as, r);
    frameChecks(c, 'login page', page.pageHeaders);
    const code = await obtainCode(ctx.http, as, r, ctx.credentials('customer'), 'deny');
    if (code.consentShown) frameChecks(c, 'consent page', code.consentHeaders);
    else c.note('consent page not shown (consent remembered): only the login and error pages were checked');
    const error = await ctx.http.fetch(`${as.authorization_endpoint}?client_id=no-such-client&redirect_uri=https://evil.example/`);
    await error.arrayBuffer();
    frameChecks(c, 'error page', error.headers);
    return c.result();
  },
};

export const o10: AttackRow = {
  id: 'O10',
  title: 'mix-up: iss in every authorization response; 303 after POST',
  expected: 'iss in every authorization response and advertised in metadata; redirects after POST are 303',
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    c.expect('metadata: authorization_response_iss_parameter_supported', as.authorization_response_iss_parameter_supported === true,
      String(as.authorization_response_iss_parameter_supported));
    const ok = await obtainCode(ctx.http, as, r, ctx.credentials('customer'));
    c.expect('code response carries iss = issuer', ok.location.searchParams.get('iss') === as.issuer, `iss=${ok.location.searchParams.get('iss')}`);
    c.expect('redirects after POST are 303', ok.postStatuses.every((s) => s === 303), ok.postStatuses.join(','));
    const err = await authorizeOnce(ctx, as, r, { scope: 'nonsense' });
    c.expect('error response carries iss = issuer', err.location?.searchParams.get('iss') === as.issuer, describeAnswer(err));
    const denied = await obtainCode(ctx.http, as, { ...r, scope: 'returns' }, ctx.credentials('customer'), 'deny');
    c.expect('denial carries iss = issuer', denied.location.searchParams.get('iss') === as.issuer, denied.location.search);
    c.expect('denial after POST is 303', denied.postStatuses.every((s) => s === 303), denied.postStatuses.join(','));
    // The other tenant's issuer differs, so a client can tell the two apart.
    const other = await ctx.endpoint('customer', ctx.options.otherTenant);
    c.expect('each tenant has its own issuer', other.as.issuer !== as.issuer, `${as.issuer} vs ${other.as.issuer}`);
    return c.result();
  },
};
