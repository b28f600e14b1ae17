// The authorization server's endpoints (issue: OAuth 2.1 authorization server). Placeholder until that work lands: mounts nothing.
import { Router } from 'express';
import type { Services } from '../services.js';

export function authorizationServer(_services: Services): Router {
  return Router();
}
