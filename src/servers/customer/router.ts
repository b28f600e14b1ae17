// The customer MCP endpoint per tenant (issue: MCP resource servers). Placeholder until that work lands: mounts nothing.
import { Router } from 'express';
import type { Services } from '../../services.js';

export function customerEndpoint(_services: Services): Router {
  return Router();
}
