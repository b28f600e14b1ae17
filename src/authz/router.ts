// The authorization server (issue 3): every tenant is its own issuer at `${publicUrl}/t/<slug>`.
// One module per endpoint; this file only mounts them.
import { Router } from 'express';
import type { Services } from '../services.js';
import { authorizeEndpoint } from './endpoints/authorize.js';
import { consentEndpoint } from './endpoints/consent.js';
import { interactionPage } from './endpoints/interaction.js';
import { introspectEndpoint } from './endpoints/introspect.js';
import { loginEndpoint } from './endpoints/login.js';
import { metadataEndpoint } from './endpoints/metadata.js';
import { registerEndpoint } from './endpoints/register.js';
import { revokeEndpoint } from './endpoints/revoke.js';
import { switchAccountEndpoint } from './endpoints/switch-account.js';
import { tokenEndpoint } from './endpoints/token.js';
import { upstreamCallbackEndpoint } from './federation/callback.js';
import { upstreamStartEndpoint } from './federation/start.js';
import { SignInThrottle } from './sign-in-throttle.js';
import { Throttles } from './throttle.js';

export function authorizationServer(services: Services, throttles = new Throttles(services.rateLimits)): Router {
  const router = Router();
  router.use(metadataEndpoint(services));
  router.use(authorizeEndpoint(services));
  router.use(interactionPage(services));
  router.use(loginEndpoint(services, throttles, new SignInThrottle(services.sql)));
  router.use(upstreamStartEndpoint(services));
  router.use(upstreamCallbackEndpoint(services));
  router.use(consentEndpoint(services));
  router.use(switchAccountEndpoint(services));
  router.use(tokenEndpoint(services, throttles));
  router.use(registerEndpoint(services, throttles));
  router.use(revokeEndpoint(services, throttles));
  router.use(introspectEndpoint(services, throttles));
  return router;
}
