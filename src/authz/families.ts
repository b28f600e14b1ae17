// Token families: every token descending from one authorization code (O5, O6). Revoking a family
// revokes its access and refresh tokens at once; resource servers see it on the very next request
// (findActiveAccessToken also checks the family).
import type { Tx } from '../db/context.js';

export async function revokeFamily(tx: Tx, tenantId: string, familyId: string, reason: string): Promise<void> {
  await tx`update oauth_token_families set revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, ${reason})
           where tenant_id = ${tenantId} and id = ${familyId}`;
  await tx`update oauth_access_tokens set revoked_at = now() where tenant_id = ${tenantId} and family_id = ${familyId} and revoked_at is null`;
  await tx`update oauth_refresh_tokens set revoked_at = now() where tenant_id = ${tenantId} and family_id = ${familyId} and revoked_at is null`;
}
