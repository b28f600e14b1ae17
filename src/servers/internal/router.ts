// The internal (staff) MCP endpoint per tenant: POST {internalUrl}/t/{slug}/internal/mcp, on the
// internal listener, and its protected resource metadata at
// /.well-known/oauth-protected-resource/t/{slug}/internal/mcp (RFC 9728).
import type { Router } from 'express';
import type { Services } from '../../services.js';
import { mcpEndpoint } from '../mcp/endpoint.js';
import { internalCapabilities } from './capabilities.js';

export function internalEndpoint(services: Services): Router {
  return mcpEndpoint({ services, set: internalCapabilities, kind: 'internal' });
}
