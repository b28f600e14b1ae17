// refresh_token grant (OAuth 2.1 §4.3, §6.1): rotated on every use. The library rotates but does not
// detect reuse, so this model part does: presenting a used or revoked refresh token
// revokes the whole family (O6). Scope may only narrow (the library's getScope, RFC 6749 §6), and
// is cut to what the staff member's role allows today.
import type OAuth2Server from '@node-oauth/oauth2-server';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import { checkNarrowing } from '../checks/scope.js';
import { InvalidScope, InvalidTarget } from '../errors.js';
import { parseScope } from '../scopes.js';
import { revokeFamily } from '../families.js';
import { hashSecret, type SubjectKind } from '../tokens.js';
import { bodyString, fail, type GrantContext, type GrantUser } from './context.js';

interface RefreshRow {
  id: string; family_id: string; client_id: string; scope: string; expires_at: Date; used_at: Date | null; revoked_at: Date | null;
  family_revoked: boolean; subject_kind: SubjectKind; subject_id: string | null; resource: string; staff_role: string | null; subject_active: boolean;
}

export function refreshTokenModel(ctx: GrantContext) {
  return {
    async getRefreshToken(token: string): Promise<OAuth2Server.RefreshToken | false> {
      const row = await withContext(ctx.services.sql, { kind: 'auth', tenantId: ctx.tenantId }, async (tx) => {
        const [r] = await tx<RefreshRow[]>`
          select r.id, r.family_id, r.client_id, r.scope, r.expires_at, r.used_at, r.revoked_at,
                 f.revoked_at is not null as family_revoked, f.subject_kind, f.subject_id, f.resource, s.role::text as staff_role,
                 case f.subject_kind when 'staff' then s.disabled_at is null and s.id is not null
                                     when 'customer' then cu.disabled_at is null and cu.id is not null else true end as subject_active
          from oauth_refresh_tokens r
          join oauth_token_families f on f.tenant_id = r.tenant_id and f.id = r.family_id
          left join staff s on f.subject_kind = 'staff' and s.tenant_id = f.tenant_id and s.id = f.subject_id
          left join customers cu on f.subject_kind = 'customer' and cu.tenant_id = f.tenant_id and cu.id = f.subject_id
          where r.tenant_id = ${ctx.tenantId} and r.token_hash = ${hashSecret(token)}`;
        if (r && (r.used_at || r.revoked_at) && !r.family_revoked) {
          // O6: a rotated (or revoked) refresh token came back: someone holds a copy. Revoke the family.
          await revokeFamily(tx, ctx.tenantId, r.family_id, 'refresh token reused');
          await recordAudit(tx, { tenantId: ctx.tenantId, event: 'auth.refresh_reuse_detected', outcome: 'denied',
            actorKind: r.subject_kind, actorId: r.subject_id, clientId: r.client_id, requestId: ctx.requestId, detail: { family_id: r.family_id } });
        }
        return r;
      });
      if (!row || row.used_at || row.revoked_at || row.family_revoked || !row.subject_active) return false;
      const resource = bodyString(ctx, 'resource');
      if (resource !== undefined && resource !== row.resource) fail(ctx, new InvalidTarget('refresh resource differs from the grant'));
      // RFC 6749 §6 narrowing, checked here too: the library rotates (burns) the token before it looks
      // at scope, and a client asking for too much should get invalid_scope without losing its session.
      try { checkNarrowing(parseScope(bodyString(ctx, 'scope')), row.scope.split(' ').filter(Boolean)); } catch (e) { fail(ctx, e as InvalidScope); }
      const user: GrantUser = { grant: 'refresh_token', subjectKind: row.subject_kind, subjectId: row.subject_id,
        staffRole: row.staff_role, resource: row.resource, familyId: row.family_id };
      return { refreshToken: token, refreshTokenExpiresAt: row.expires_at, scope: row.scope.split(' ').filter(Boolean),
        client: { id: row.client_id, grants: [] }, user, refreshId: row.id };
    },

    /** Marks the token used; losing a race with a concurrent use is a replay (O6). */
    async revokeToken(token: OAuth2Server.RefreshToken): Promise<boolean> {
      const user = token.user as GrantUser;
      return withContext(ctx.services.sql, { kind: 'auth', tenantId: ctx.tenantId }, async (tx) => {
        const rows = await tx`update oauth_refresh_tokens set used_at = now()
          where tenant_id = ${ctx.tenantId} and id = ${token.refreshId as string} and used_at is null and revoked_at is null returning 1`;
        if (rows.length) return true;
        await revokeFamily(tx, ctx.tenantId, user.familyId!, 'refresh token reused (concurrent)');
        return false;
      });
    },
  };
}
