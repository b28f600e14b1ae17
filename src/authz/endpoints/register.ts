// Dynamic client registration (RFC 7591). Policy: public clients by default (a confidential
// registration gets a secret, stored hashed), redirect URIs https or loopback http only, at most
// authorization_code + refresh_token, rate-limited per IP (A4), expiring when unused.
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import type { Services } from '../../services.js';
import { cleanClientName } from '../checks/client-name.js';
import { redirectUriProblem } from '../checks/redirect-uri.js';
import { findTextDefect } from '../../text/defects.js';
import { DYNAMIC_CLIENT_IDLE_SECONDS } from '../clients.js';
import { InvalidClientMetadata, InvalidRedirectUri, sendOAuthError } from '../errors.js';
import { clientIp, noStore, resolveTenant, tenantOf } from '../http.js';
import { hashSecret, newSecret } from '../tokens.js';
import type { Throttles } from '../throttle.js';
import { randomUUID } from 'node:crypto';

/** RFC 7591 §2: the metadata we accept; unknown fields are ignored (§2: "MUST ignore"). */
const registrationRequest = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1).max(10),
  client_name: z.string().trim().min(1).max(100).optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).default('none'),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).min(1).default(['authorization_code', 'refresh_token']),
  response_types: z.array(z.literal('code')).min(1).default(['code']),
  scope: z.string().max(1000).optional(),
  client_uri: z.string().max(2000).optional(),
  logo_uri: z.string().max(2000).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(100).optional(),
});

/**
 * RFC 7591 §2/§3.2.2 + OAuth 2.1 §2.3.1 + RFC 8252 §7.3: every redirect URI https or loopback http,
 * canonical (no empty host, dot segments, encoded dots, out-of-range ports, userinfo or fragment).
 */
function checkRedirectUris(uris: string[]): string[] {
  const bad = uris.map((u) => [u, redirectUriProblem(u)] as const).filter(([, problem]) => problem !== null);
  if (bad.length) throw new InvalidRedirectUri(`refused redirect_uris ${bad.map(([u, p]) => `${u} (${p})`).join(' ')}`);
  return [...new Set(uris)];
}

export function registerEndpoint(services: Services, throttles: Throttles): Router {
  const router = Router();
  if (!services.config.dynamicRegistration) return router;
  router.post('/t/:slug/register', resolveTenant(services), noStore, express.json({ limit: '8kb', strict: true }),
    async (req: Request, res: Response) => {
      const { tenant } = tenantOf(res);
      try {
        await throttles.registration(clientIp(req));
        // E1: NUL or unpaired surrogates anywhere in the metadata are refused, never stored.
        const defect = findTextDefect(req.body);
        if (defect) {
          throw defect.path.startsWith('redirect_uris') ? new InvalidRedirectUri(`${defect.path} ${defect.problem}`) : new InvalidClientMetadata(`${defect.path} ${defect.problem}`);
        }
        const parsed = registrationRequest.safeParse(req.body);
        if (!parsed.success) {
          const onRedirect = parsed.error.issues.some((i) => i.path[0] === 'redirect_uris');
          throw onRedirect ? new InvalidRedirectUri('redirect_uris malformed') : new InvalidClientMetadata(parsed.error.message);
        }
        const m = parsed.data;
        const redirectUris = checkRedirectUris(m.redirect_uris);
        const confidential = m.token_endpoint_auth_method !== 'none';
        const clientId = randomUUID();
        const secret = confidential ? newSecret('secret') : undefined;
        const name = (m.client_name === undefined ? null : cleanClientName(m.client_name)) ?? 'Unnamed application'; // O15
        const issuedAt = Math.floor(Date.now() / 1000);
        await withContext(services.sql, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
          await tx`insert into oauth_clients (tenant_id, client_id, client_secret_hash, name, redirect_uris, grant_types,
                                              token_endpoint_auth_method, audience, source, scope, metadata, expires_at)
                   values (${tenant.id}, ${clientId}, ${secret ? hashSecret(secret) : null}, ${name}, ${redirectUris},
                           ${m.grant_types}, ${m.token_endpoint_auth_method}, 'any', 'dynamic', ${m.scope ?? ''},
                           ${tx.json({ client_uri: m.client_uri ?? null, software_id: m.software_id ?? null, software_version: m.software_version ?? null, ip: clientIp(req) })},
                           now() + make_interval(secs => ${DYNAMIC_CLIENT_IDLE_SECONDS}))`;
          await recordAudit(tx, { tenantId: tenant.id, event: 'auth.client_registered', outcome: 'ok', actorKind: 'anonymous',
            clientId, requestId: String(req.id), detail: { name, redirect_uris: redirectUris, method: m.token_endpoint_auth_method } });
        });
        // RFC 7591 §3.2.1
        res.status(201).json({
          client_id: clientId, client_id_issued_at: issuedAt,
          ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
          client_name: name, redirect_uris: redirectUris, grant_types: m.grant_types, response_types: m.response_types,
          token_endpoint_auth_method: m.token_endpoint_auth_method, ...(m.scope ? { scope: m.scope } : {}),
        });
      } catch (e) {
        sendOAuthError(res, e, req.log);
      }
    });
  return router;
}
