// Token revocation (RFC 7009). The client authenticates (a public client names itself, §2.1); a
// refresh token revokes its whole family, an access token itself. Unknown tokens, and tokens of
// other clients, get the same 200 (§2.2) so the endpoint reveals nothing. Effective at the resource
// servers on the very next request: they look every token up.
import express, { Router, type Request, type Response } from 'express';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { authenticateClient, clientCredentials } from '../clients.js';
import { InvalidClient, InvalidRequest, sendOAuthError, UnsupportedTokenType } from '../errors.js';
import { revokeFamily } from '../families.js';
import { clientIp, noStore, refuseDefectiveBody, resolveTenant, tenantOf } from '../http.js';
import { hashSecret } from '../tokens.js';
import type { Throttles } from '../throttle.js';

export function revokeEndpoint(services: Services, throttles: Throttles): Router {
  const router = Router();
  router.post('/t/:slug/revoke', resolveTenant(services), noStore, express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }), refuseDefectiveBody,
    async (req: Request, res: Response) => {
      const { tenant } = tenantOf(res);
      const body: Record<string, unknown> = req.body ?? {};
      const creds = clientCredentials(req.headers.authorization, body);
      try {
        await throttles.tokenRequest(clientIp(req));
        if (!creds.clientId) throw new InvalidClient('no client identification');
        const token = body.token;
        if (typeof token !== 'string' || !token) throw new InvalidRequest('token missing');
        const hint = body.token_type_hint;
        if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') throw new UnsupportedTokenType(String(hint));
        await throttles.clientAuthOpen(`${tenant.id}:${creds.clientId}`);
        await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
          const client = await authenticateClient(tx, tenant.id, creds.clientId!, creds.secret).catch(async (e) => {
            await throttles.clientAuthFailed(`${tenant.id}:${creds.clientId}`);
            throw e;
          });
          const hash = hashSecret(token);
          const [refresh] = await tx<{ family_id: string }[]>`select family_id from oauth_refresh_tokens
            where tenant_id = ${tenant.id} and token_hash = ${hash} and client_id = ${client.clientId}`;
          if (refresh) {
            await revokeFamily(tx, tenant.id, refresh.family_id, 'revoked by client');
          } else {
            await tx`update oauth_access_tokens set revoked_at = coalesce(revoked_at, now())
                     where tenant_id = ${tenant.id} and token_hash = ${hash} and client_id = ${client.clientId}`;
          }
          await recordAudit(tx, { tenantId: tenant.id, event: 'auth.token_revoked', outcome: 'ok', actorKind: 'anonymous',
            clientId: client.clientId, requestId: String(req.id), detail: { kind: refresh ? 'refresh_token' : 'access_token' } });
        });
        res.status(200).end();
      } catch (e) {
        sendOAuthError(res, e, req.log, { basicAuthAttempted: creds.basic });
      }
    });
  return router;
}
