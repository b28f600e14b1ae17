// authorization_code grant (OAuth 2.1 §4.1.3): the library drives it; this model part makes the code
// single-use (consumed before PKCE is checked, so a wrong verifier burns it: O2), detects replay and
// revokes everything issued from the code (RFC 6749 §4.1.2, O5), checks PKCE S256 in constant time
// and the redirect URI exactly, and binds the token to the code's resource (RFC 8707 §2.2).
import type OAuth2Server from '@node-oauth/oauth2-server';
import { recordAudit } from '../../audit/record.js';
import { withContext } from '../../db/context.js';
import { verifyCodeVerifier } from '../checks/pkce.js';
import { InvalidGrant, InvalidTarget } from '../errors.js';
import { revokeFamily } from '../families.js';
import { hashSecret } from '../tokens.js';
import { bodyString, fail, type GrantContext, type GrantUser } from './context.js';

interface CodeRow {
  code_hash: string; client_id: string; subject_kind: 'customer' | 'staff'; subject_id: string; redirect_uri: string;
  code_challenge: string; resource: string; scope: string; family_id: string; expires_at: Date; consumed_at: Date | null;
  staff_role: string | null;
}

async function replayDetected(ctx: GrantContext, row: CodeRow): Promise<void> {
  await withContext(ctx.services.sql, { kind: 'auth', tenantId: ctx.tenantId }, async (tx) => {
    await revokeFamily(tx, ctx.tenantId, row.family_id, 'authorization code replayed');
    await recordAudit(tx, { tenantId: ctx.tenantId, event: 'auth.code_replay_detected', outcome: 'denied', actorKind: row.subject_kind,
      actorId: row.subject_id, clientId: row.client_id, requestId: ctx.requestId, detail: { family_id: row.family_id } });
  });
}

export function authorizationCodeModel(ctx: GrantContext) {
  return {
    async getAuthorizationCode(code: string): Promise<OAuth2Server.AuthorizationCode | false> {
      const row = await withContext(ctx.services.sql, { kind: 'auth', tenantId: ctx.tenantId }, async (tx) => {
        const [r] = await tx<CodeRow[]>`
          select c.*, s.role::text as staff_role from oauth_authorization_codes c
          left join staff s on c.subject_kind = 'staff' and s.tenant_id = c.tenant_id and s.id = c.subject_id
          where c.tenant_id = ${ctx.tenantId} and c.code_hash = ${hashSecret(code)}`;
        return r;
      });
      if (!row) return false;
      if (row.consumed_at) { await replayDetected(ctx, row); return false; } // O5
      const resource = bodyString(ctx, 'resource');
      if (resource !== undefined && resource !== row.resource) fail(ctx, new InvalidTarget('token resource differs from the code'));
      const user: GrantUser = { grant: 'authorization_code', subjectKind: row.subject_kind, subjectId: row.subject_id,
        staffRole: row.staff_role, resource: row.resource, familyId: row.family_id, scope: row.scope.split(' ').filter(Boolean) };
      return {
        authorizationCode: code, expiresAt: row.expires_at, redirectUri: row.redirect_uri, scope: user.scope,
        client: { id: row.client_id, grants: [] }, user,
        codeChallenge: row.code_challenge, codeChallengeMethod: 'S256', codeHash: row.code_hash,
      };
    },

    async revokeAuthorizationCode(code: OAuth2Server.AuthorizationCode): Promise<boolean> {
      const consumed = await withContext(ctx.services.sql, { kind: 'auth', tenantId: ctx.tenantId }, (tx) =>
        tx`update oauth_authorization_codes set consumed_at = now()
           where tenant_id = ${ctx.tenantId} and code_hash = ${code.codeHash as string} and consumed_at is null returning 1`);
      if (!consumed.length) { // lost a race with another redemption: that is a replay too
        const user = code.user as GrantUser;
        await replayDetected(ctx, { family_id: user.familyId, subject_kind: user.subjectKind, subject_id: user.subjectId, client_id: code.client.id } as CodeRow);
        return false;
      }
      // The code is burned now (committed); only then are the verifier and redirect URI judged (O2).
      verifyOrFail(ctx, code);
      return true;
    },
  };
}

function verifyOrFail(ctx: GrantContext, code: OAuth2Server.AuthorizationCode): void {
  try {
    verifyCodeVerifier(bodyString(ctx, 'code_verifier'), code.codeChallenge!); // RFC 7636 §4.6
  } catch (e) {
    fail(ctx, e as InvalidGrant);
  }
  // OAuth 2.1 §4.1.3: redirect_uri must be identical to the authorization request's.
  if (bodyString(ctx, 'redirect_uri') !== code.redirectUri) fail(ctx, new InvalidGrant('redirect_uri differs from the authorization request'));
}
