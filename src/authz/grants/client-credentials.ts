// client_credentials grant (OAuth 2.1 §4.2): only confidential clients of audience 'service',
// pre-registered with the admin command; the token is bound to the tenant's internal endpoint and
// carries at most the client's registered scope.
import type OAuth2Server from '@node-oauth/oauth2-server';
import { checkResource } from '../checks/resource.js';
import { checkRequestedScope } from '../checks/scope.js';
import { InvalidScope, InvalidTarget, UnauthorizedClient } from '../errors.js';
import { parseScope } from '../scopes.js';
import { bodyString, fail, type GrantContext, type GrantUser } from './context.js';

export function clientCredentialsModel(ctx: GrantContext) {
  return {
    async getUserFromClient(client: OAuth2Server.Client): Promise<GrantUser> {
      if (client.audience !== 'service' || !client.confidential) fail(ctx, new UnauthorizedClient('client_credentials needs a confidential service client'));
      let target;
      try { target = checkResource(ctx.services.config, ctx.slug, bodyString(ctx, 'resource')); } catch (e) { fail(ctx, e as InvalidTarget); }
      if (target.kind !== 'internal') fail(ctx, new InvalidTarget('service tokens are for the internal endpoint only'));
      return { grant: 'client_credentials', subjectKind: 'service', subjectId: null, staffRole: null, resource: target.uri, familyId: null };
    },

    /** requested ⊆ staff vocabulary ∩ the client's registered scope; none requested → all of the latter. */
    clientCredentialsScope(client: OAuth2Server.Client, requested: string[] | undefined): string[] {
      let asked: string[];
      try { asked = checkRequestedScope(requested?.join(' '), 'internal'); } catch (e) { fail(ctx, e as InvalidScope); }
      const registered = parseScope(client.scope as string);
      if (asked.some((s) => !registered.includes(s))) fail(ctx, new InvalidScope('beyond the client registration'));
      const granted = asked.length ? asked : registered;
      if (!granted.length) fail(ctx, new InvalidScope('client has no scope'));
      return granted;
    },
  };
}
