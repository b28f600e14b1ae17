// The customer MCP endpoint per tenant: POST {publicUrl}/t/{slug}/mcp, and its protected resource
// metadata at /.well-known/oauth-protected-resource/t/{slug}/mcp (RFC 9728).
import type { Router } from 'express';
import type { Services } from '../../services.js';
import { mcpEndpoint } from '../mcp/endpoint.js';
import { customerCapabilities } from './capabilities.js';

export function customerEndpoint(services: Services): Router {
  return mcpEndpoint({ services, set: customerCapabilities, kind: 'customer' });
}
