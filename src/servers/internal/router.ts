// The internal (staff) MCP endpoint per tenant (issue: MCP resource servers). Placeholder until that work lands: mounts nothing.
import { Router } from 'express';
import type { Services } from '../../services.js';

export function internalEndpoint(_services: Services): Router {
  return Router();
}
