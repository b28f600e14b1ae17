// client_credentials grant (OAuth 2.1 §4.2): only confidential clients of audience 'service',
// pre-registered with the admin command; the token is bound to one resource of the tenant (RFC
// 8707): its internal MCP endpoint (staff vocabulary) or its ingestion endpoint (`ingest:write`
// only), and carries at most the client's registered scope within that resource's vocabulary.
import type OAuth2Server from '@node-oauth/oauth2-server';
import { checkResource } from '../checks/resource.js';
import { checkRequestedScope } from '../checks/scope.js';
import { InvalidScope, InvalidTarget, UnauthorizedClient } from '../errors.js';
import { ingestResourceFor } from '../resources.js';
import { isServiceScope, parseScope } from '../scopes.js';
import { bodyString, fail, type GrantContext, type GrantUser } from './context.js';

export function clientCredentialsModel(ctx: GrantContext) {
  const isIngestTarget = (resource: string | undefined) => resource === ingestResourceFor(ctx.services.config, ctx.slug);
  return {
    async getUserFromClient(client: OAuth2Server.Client): Promise<GrantUser> {
      if (client.audience !== 'service' || !client.confidential) fail(ctx, new UnauthorizedClient('client_credentials needs a confidential service client'));
      const resource = bodyString(ctx, 'resource');
      if (isIngestTarget(resource)) {
        return { grant: 'client_credentials', subjectKind: 'service', subjectId: null, staffRole: null, resource: resource!, familyId: null };
      }
      let target;
      try { target = checkResource(ctx.services.config, ctx.slug, resource); } catch (e) { fail(ctx, e as InvalidTarget); }
      if (target.kind !== 'internal') fail(ctx, new InvalidTarget('service tokens are for the internal endpoint only'));
      return { grant: 'client_credentials', subjectKind: 'service', subjectId: null, staffRole: null, resource: target.uri, familyId: null };
    },

    /** requested ⊆ staff vocabulary ∩ the client's registered scope; none requested → all of the latter. */
    clientCredentialsScope(client: OAuth2Server.Client, requested: string[] | undefined): string[] {
      if (isIngestTarget(bodyString(ctx, 'resource'))) return ingestScope(ctx, client, requested);
      let asked: string[];
      try { asked = checkRequestedScope(requested?.join(' '), 'internal'); } catch (e) { fail(ctx, e as InvalidScope); }
      const registered = parseScope(client.scope as string);
      if (asked.some((s) => !registered.includes(s))) fail(ctx, new InvalidScope('beyond the client registration'));
      const granted = asked.length ? asked : registered.filter((s) => !isServiceScope(s));
      if (!granted.length) fail(ctx, new InvalidScope('client has no scope'));
      return granted;
    },
  };
}

/** RFC 6749 §3.3 for the ingestion resource: its vocabulary is `ingest:write` alone (O7). */
function ingestScope(ctx: GrantContext, client: OAuth2Server.Client, requested: string[] | undefined): string[] {
  const asked = parseScope(requested?.join(' '));
  if (asked.some((s) => !isServiceScope(s))) fail(ctx, new InvalidScope('the ingestion endpoint takes the scope ingest:write only'));
  const registered: string[] = parseScope(client.scope as string).filter(isServiceScope);
  if (asked.some((s) => !registered.includes(s))) fail(ctx, new InvalidScope('beyond the client registration'));
  const granted = asked.length ? asked : registered;
  if (!granted.length) fail(ctx, new InvalidScope('client has no ingestion scope'));
  return granted;
}
