// Token introspection (RFC 7662), for authenticated resource servers only (audience
// 'resource_server'); anyone else gets 401 invalid_client (§2.1: the endpoint MUST require
// authorization). Inactive, foreign, expired and revoked tokens are all just {"active": false} (§2.2).
import express, { Router, type Request, type Response } from 'express';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { authenticateClient, clientCredentials } from '../clients.js';
import { InvalidClient, InvalidRequest, sendOAuthError } from '../errors.js';
import { clientIp, noStore, refuseDefectiveBody, resolveTenant, tenantOf } from '../http.js';
import { findActiveAccessToken } from '../tokens.js';
import type { Throttles } from '../throttle.js';

export function introspectEndpoint(services: Services, throttles: Throttles): Router {
  const router = Router();
  router.post('/t/:slug/introspect', resolveTenant(services), noStore, express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }), refuseDefectiveBody,
    async (req: Request, res: Response) => {
      const { tenant, issuer } = tenantOf(res);
      const body: Record<string, unknown> = req.body ?? {};
      const creds = clientCredentials(req.headers.authorization, body);
      try {
        await throttles.tokenRequest(clientIp(req));
        if (!creds.clientId || creds.secret === undefined) throw new InvalidClient('introspection needs client authentication');
        await throttles.clientAuthOpen(`${tenant.id}:${creds.clientId}`);
        const answer = await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
          const client = await authenticateClient(tx, tenant.id, creds.clientId!, creds.secret).catch(async (e) => {
            await throttles.clientAuthFailed(`${tenant.id}:${creds.clientId}`);
            throw e;
          });
          if (client.audience !== 'resource_server') throw new InvalidClient('client is not a resource server');
          if (typeof body.token !== 'string' || !body.token) throw new InvalidRequest('token missing');
          const t = await findActiveAccessToken(tx, tenant.id, body.token);
          if (!t) return { active: false };
          const [row] = await tx<{ issued_at: Date }[]>`select issued_at from oauth_access_tokens where tenant_id = ${tenant.id} and id = ${t.id}`;
          return {
            active: true, scope: t.scopes.join(' '), client_id: t.clientId, token_type: 'Bearer',
            exp: Math.floor(t.expiresAt.getTime() / 1000), iat: Math.floor(row!.issued_at.getTime() / 1000),
            sub: t.subjectId ?? t.clientId, aud: t.resource, iss: issuer,
            subject_kind: t.subjectKind, ...(t.staffRole ? { staff_role: t.staffRole } : {}),
          };
        });
        res.status(200).json(answer);
      } catch (e) {
        sendOAuthError(res, e, req.log, { basicAuthAttempted: creds.basic });
      }
    });
  return router;
}
