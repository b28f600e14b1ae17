// M2: confused deputy. Consent is remembered per (user, client, resource, scope): consent given to
// client A is never reused for client B (MCP 2025-11-25 Security Best Practices §"Confused Deputy").
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
    const again = await obtainCode(ctx.http, a.discovery.as, a, user);
    c.expect('control: client A is not asked again', !again.consentShown && Boolean(again.code), again.consentShown ? 'consent shown again' : 'straight to code');
    const b = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE, 'second');
    c.expect('client B is a different client', b.clientId !== a.clientId, b.clientId);
    const forB = await obtainCode(ctx.http, b.discovery.as, b, user, 'deny');
    c.expect('client B gets the consent page', forB.consentShown && !forB.code, forB.consentShown ? 'consent page shown' : `no consent page: ${forB.location.search}`);
    return c.result();
  },
};
