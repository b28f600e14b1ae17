// The @node-oauth/oauth2-server model for one token request, backed by our tables. Each grant's
// part lives in its own module; shared here: client authentication and issuing the tokens.
import type OAuth2Server from '@node-oauth/oauth2-server';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import { allowedScopes } from '../checks/scope.js';
import { authenticateClient, DYNAMIC_CLIENT_IDLE_SECONDS } from '../clients.js';
import { InvalidClient, OAuthError } from '../errors.js';
import { hashSecret, mintAccessToken, newSecret } from '../tokens.js';
import type { Throttles } from '../throttle.js';
import { authorizationCodeModel } from './authorization-code.js';
import { clientCredentialsModel } from './client-credentials.js';
import { fail, type GrantContext, type GrantUser } from './context.js';
import { refreshTokenModel } from './refresh-token.js';

export function tokenModel(ctx: GrantContext, throttles: Throttles) {
  const { config, sql } = ctx.services;
  const cc = clientCredentialsModel(ctx);
  return {
    ...authorizationCodeModel(ctx),
    ...refreshTokenModel(ctx),
    getUserFromClient: cc.getUserFromClient,

    /** RFC 6749 §2.3 with per-client failure throttling (O11). */
    async getClient(clientId: string, clientSecret: string | undefined): Promise<OAuth2Server.Client> {
      const key = `${ctx.tenantId}:${clientId}`;
      try {
        await throttles.clientAuthOpen(key);
        const client = await withContext(sql, { kind: 'auth', tenantId: ctx.tenantId }, (tx) => authenticateClient(tx, ctx.tenantId, clientId, clientSecret || undefined));
        return { id: client.clientId, grants: client.grantTypes, audience: client.audience, confidential: client.confidential, scope: client.scope };
      } catch (e) {
        if (e instanceof InvalidClient) await throttles.clientAuthFailed(key);
        if (e instanceof OAuthError) fail(ctx, e);
        throw e;
      }
    },

    async validateScope(user: GrantUser, client: OAuth2Server.Client, scope?: string[]): Promise<string[]> {
      if (user.grant === 'client_credentials') return cc.clientCredentialsScope(client, scope);
      return user.scope ?? [];
    },

    /** Mints the access token (and the rotated refresh token) in one transaction. */
    async saveToken(token: OAuth2Server.Token, client: OAuth2Server.Client, user: GrantUser): Promise<OAuth2Server.Token> {
      let scope = token.scope ?? [];
      if (user.grant === 'refresh_token') {
        const allowed = allowedScopes(user.resource.endsWith('/internal/mcp') ? 'internal' : 'customer', user.staffRole);
        if (user.subjectKind !== 'service') scope = scope.filter((s) => allowed.includes(s)); // a role may have shrunk since
      }
      const scopeText = [...scope].sort().join(' ');
      return withContext(sql, { kind: 'auth', tenantId: ctx.tenantId }, async (tx) => {
        if (user.grant === 'authorization_code') {
          await tx`insert into oauth_token_families (tenant_id, id, client_id, subject_kind, subject_id, resource, scope)
                   values (${ctx.tenantId}, ${user.familyId}, ${client.id}, ${user.subjectKind}, ${user.subjectId}, ${user.resource}, ${scopeText})`;
        }
        const access = await mintAccessToken(tx, {
          tenantId: ctx.tenantId, familyId: user.familyId, clientId: client.id, subjectKind: user.subjectKind,
          subjectId: user.subjectId, resource: user.resource, scope: scopeText, ttlSeconds: config.accessTokenTtlSeconds,
        });
        let refreshToken: string | undefined;
        if (user.grant !== 'client_credentials' && user.familyId) {
          refreshToken = newSecret('rt');
          await tx`insert into oauth_refresh_tokens (tenant_id, token_hash, family_id, client_id, scope, expires_at)
                   values (${ctx.tenantId}, ${hashSecret(refreshToken)}, ${user.familyId}, ${client.id}, ${scopeText},
                           now() + make_interval(secs => ${config.refreshTokenTtlSeconds}))`;
        }
        await tx`update oauth_clients set last_used_at = now(),
                   expires_at = case when source = 'dynamic' then now() + make_interval(secs => ${DYNAMIC_CLIENT_IDLE_SECONDS}) else expires_at end
                 where tenant_id = ${ctx.tenantId} and client_id = ${client.id}`;
        await recordAudit(tx, { tenantId: ctx.tenantId, event: 'auth.token_issued', outcome: 'ok', actorKind: user.subjectKind,
          actorId: user.subjectId, clientId: client.id, tokenId: access.id, requestId: ctx.requestId,
          detail: { grant_type: user.grant, resource: user.resource, scope: scopeText } });
        return {
          accessToken: access.token, accessTokenExpiresAt: new Date(Date.now() + access.expiresIn * 1000),
          refreshToken, refreshTokenExpiresAt: refreshToken ? new Date(Date.now() + config.refreshTokenTtlSeconds * 1000) : undefined,
          scope: scopeText.split(' ').filter(Boolean), client, user,
        };
      });
    },
  };
}

