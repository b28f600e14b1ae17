// Where each tenant's issuer and MCP endpoints live. A resource identifier (RFC 8707) names exactly
// one MCP endpoint of one tenant; tokens are bound to one of them.
import type { Config } from '../config.js';

export type EndpointKind = 'customer' | 'internal';

export const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/;

export function issuerFor(config: Pick<Config, 'publicUrl'>, slug: string): string {
  return `${config.publicUrl}/t/${slug}`;
}

export function customerEndpointPath(slug: string): string {
  return `/t/${slug}/mcp`;
}

export function internalEndpointPath(slug: string): string {
  return `/t/${slug}/internal/mcp`;
}

/** The tenant's bulk ingestion endpoint (src/ingest), on the internal listener. */
export function ingestEndpointPath(slug: string): string {
  return `/t/${slug}/internal/ingest`;
}

/** RFC 8707: the resource a service client's ingestion token is bound to. */
export function ingestResourceFor(config: Pick<Config, 'internalUrl'>, slug: string): string {
  return `${config.internalUrl}${ingestEndpointPath(slug)}`;
}

export function resourceFor(config: Pick<Config, 'publicUrl' | 'internalUrl'>, slug: string, kind: EndpointKind): string {
  return kind === 'customer'
    ? `${config.publicUrl}${customerEndpointPath(slug)}`
    : `${config.internalUrl}${internalEndpointPath(slug)}`;
}

/** RFC 9728 §3.1: the metadata URL inserts the well-known segment before the resource's path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const u = new URL(resource);
  return `${u.origin}/.well-known/oauth-protected-resource${u.pathname}`;
}

/** RFC 8414 §3.1: the same insertion for the authorization server's metadata. */
export function authorizationServerMetadataUrl(issuer: string): string {
  const u = new URL(issuer);
  return `${u.origin}/.well-known/oauth-authorization-server${u.pathname}`;
}

/**
 * The approval console's page of one action (`<internal URL>/console/t/<slug>/actions/<id>`), from
 * the internal endpoint a staff token is bound to; null for any other resource.
 */
export function consoleActionUrl(internalResource: string, actionId: string): string | null {
  const m = /^(https?:\/\/[^/?#]+(?:\/[^?#]*)?)\/t\/([a-z0-9][a-z0-9-]{1,38}[a-z0-9])\/internal\/mcp$/.exec(internalResource);
  return m && /^[0-9a-f-]{36}$/.test(actionId) ? `${m[1]}/console/t/${m[2]}/actions/${actionId}` : null;
}
