// RFC 8707 §2: the `resource` parameter is required here (MCP 2025-11-25 authorization §"Resource
// Parameter Implementation") and must name exactly one MCP endpoint of this tenant.
import type { Config } from '../../config.js';
import { InvalidTarget } from '../errors.js';
import { resourceFor, type EndpointKind } from '../resources.js';

export interface TargetResource {
  uri: string;
  kind: EndpointKind; // 'customer' → customers sign in; 'internal' → staff sign in
}

/** RFC 8707 §2: one absolute URI without fragment, equal to one of the tenant's two endpoints. */
export function checkResource(config: Pick<Config, 'publicUrl' | 'internalUrl'>, slug: string, resource: string | undefined): TargetResource {
  if (!resource) throw new InvalidTarget('resource missing');
  for (const kind of ['customer', 'internal'] as const) {
    if (resource === resourceFor(config, slug, kind)) return { uri: resource, kind };
  }
  throw new InvalidTarget(`resource ${resource} is not an endpoint of ${slug}`);
}

/** Which client audiences may obtain a token for an endpoint kind (oauth_clients.audience). */
export function audienceMayUse(audience: string, kind: EndpointKind): boolean {
  return audience === 'any' || (audience === 'customer' && kind === 'customer') || (audience === 'staff' && kind === 'internal');
}
