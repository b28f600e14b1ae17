// M2: confused deputy. Consent is remembered per (user, client, resource, scope): consent given to
// client A is never reused for client B (MCP 2025-11-25 Security Best Practices §"Confused Deputy").
// Remembered consent only ever applies where the client's identity is assured (O14, RFC 8252 §8.6),
// so the control runs through the suite client's https redirect; without one, the control is that
// a public loopback client is asked again.
import { AttackContext } from '../context.js';
import { obtainCode } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';

export const m2: AttackRow = {
  id: 'M2',
  title: 'consent given to client A replayed for client B',
  expected: 'consent asked again for B',
  async run(ctx) {
    const c = new Checks();
    const user = ctx.credentials('customer');
    const a = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    await ctx.tokens('customer'); // client A holds the user's consent for this scope
    const https = a.client.httpsRedirectUri;
    if (https) {
      const again = await obtainCode(ctx.http, a.discovery.as, { ...a, redirectUri: https }, user);
      c.expect('control: client A (https redirect) is not asked again', !again.consentShown && Boolean(again.code), again.consentShown ? 'consent shown again' : 'straight to code');
    } else {
      const again = await obtainCode(ctx.http, a.discovery.as, a, user, 'deny');
      c.expect('control: client A (public, loopback redirect) is asked again (O14)', again.consentShown && !again.code, again.consentShown ? 'consent page shown' : 'straight to code');
    }
    const b = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE, 'second');
    c.expect('client B is a different client', b.clientId !== a.clientId, b.clientId);
    const forB = await obtainCode(ctx.http, b.discovery.as, { ...b, redirectUri: b.client.httpsRedirectUri ?? b.redirectUri }, user, 'deny');
    c.expect('client B gets the consent page', forB.consentShown && !forB.code, forB.consentShown ? 'consent page shown' : `no consent page: ${forB.location.search}`);
    return c.result();
  },
};
