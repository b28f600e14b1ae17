// The token endpoint (OAuth 2.1 §3.2). Steps: per-IP throttle → grant type allow-list (no implicit,
// no password) → single-valued parameters → the library's grant handling over our model → no-store.
import OAuth2Server from '@node-oauth/oauth2-server';
import express, { Router, type Request, type Response } from 'express';
import type { Services } from '../../services.js';
import { InvalidRequest, sendOAuthError, UnsupportedGrantType } from '../errors.js';
import { clientIp, noStore, refuseDefectiveBody, resolveTenant, tenantOf } from '../http.js';
import type { Throttles } from '../throttle.js';
import type { GrantContext } from '../grants/context.js';
import { tokenModel } from '../grants/model.js';
import { JWT_BEARER, jwtBearerGrant } from '../grants/jwt-bearer.js';

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER]);

export function tokenEndpoint(services: Services, throttles: Throttles): Router {
  const router = Router();
  router.post('/t/:slug/token', resolveTenant(services), noStore,
    express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 }), refuseDefectiveBody,
    async (req: Request, res: Response) => {
      const { tenant } = tenantOf(res);
      const body: Record<string, unknown> = req.body ?? {};
      const basic = /^basic /i.test(req.headers.authorization ?? '');
      const ctx: GrantContext = { services, tenantId: tenant.id, slug: tenant.slug, body, requestId: String(req.id) };
      try {
        await throttles.tokenRequest(clientIp(req));
        if (Object.values(body).some((v) => typeof v !== 'string')) throw new InvalidRequest('repeated parameter'); // RFC 6749 §3.2
        if (typeof body.grant_type === 'string' && !GRANT_TYPES.has(body.grant_type)) throw new UnsupportedGrantType(body.grant_type);
        // RFC 7523 with an ID-JAG (enterprise-managed authorization): our own grant module.
        if (body.grant_type === JWT_BEARER) return void res.status(200).json(await jwtBearerGrant(ctx, req, throttles));
        const server = new OAuth2Server({
          model: tokenModel(ctx, throttles) as unknown as OAuth2Server.AuthorizationCodeModel,
          accessTokenLifetime: services.config.accessTokenTtlSeconds,
          refreshTokenLifetime: services.config.refreshTokenTtlSeconds,
          // Public clients (PKCE) authenticate nothing; confidential ones are held to their secret in getClient.
          requireClientAuthentication: { authorization_code: false, refresh_token: false, client_credentials: true },
          alwaysIssueNewRefreshToken: true,
        });
        const request = new OAuth2Server.Request({ headers: req.headers as Record<string, string>, method: req.method, query: {}, body });
        const response = new OAuth2Server.Response({ headers: {} });
        await server.token(request, response);
        res.status(200).json(response.body);
      } catch (e) {
        sendOAuthError(res, ctx.failure ?? e, req.log, { basicAuthAttempted: basic });
      }
    });
  return router;
}
