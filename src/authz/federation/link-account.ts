// Which local account an upstream identity is (issue 13 §1): first by the link (issuer, sub) within
// the tenant; else, when the upstream says the email is verified, the tenant's account with that
// email (never another tenant's: every query is in this tenant's context); else, when the tenant
// allows it, a new account. Staff get the role their groups map to, at every sign-in (no mapping:
// no access), so a person moved out of a group upstream loses it here on their next sign-in.
// Accounts disabled here stay disabled: a link never signs in a disabled account.
import type { Tx } from '../../db/context.js';
import { mapStaffRole, upstreamEmail, upstreamName } from '../checks/upstream-claims.js';
import type { StaffRole } from '../scopes.js';
import type { IdentityProvider } from './upstream-config.js';

/** Accounts made by an upstream sign-in have no local password: no argon2 hash ever matches this. */
export const NO_LOCAL_PASSWORD = '!upstream-only';

export type LinkOutcome =
  | { ok: true; kind: 'customer' | 'staff'; id: string; role: StaffRole | null; created: boolean; linked: boolean }
  | { ok: false; reason: 'no_role' | 'disabled' | 'no_account' | 'email_taken' | 'no_subject' };

interface Account { id: string; disabled_at: Date | null }

export async function linkAccount(tx: Tx, provider: IdentityProvider, claims: Record<string, unknown>): Promise<LinkOutcome> {
  const audience = provider.audience as 'customer' | 'staff';
  const tenantId = provider.tenantId;
  const sub = typeof claims.sub === 'string' && claims.sub.length <= 255 ? claims.sub : null;
  if (!sub) return { ok: false, reason: 'no_subject' };
  const role = audience === 'staff' ? mapStaffRole(claims, provider.rolesClaim, provider.roleMapping) : null;
  if (audience === 'staff' && !role) return { ok: false, reason: 'no_role' };
  const { email, verified } = upstreamEmail(claims, provider.emailClaim);

  const [link] = await tx<{ id: string }[]>`
    select coalesce(customer_id, staff_id) as id from upstream_identities
    where tenant_id = ${tenantId} and audience = ${audience} and issuer = ${provider.issuer} and subject = ${sub}`;
  let account: Account | undefined;
  let linked = false;
  let created = false;
  if (link) {
    [account] = audience === 'customer'
      ? await tx<Account[]>`select id, disabled_at from customers where tenant_id = ${tenantId} and id = ${link.id}`
      : await tx<Account[]>`select id, disabled_at from staff where tenant_id = ${tenantId} and id = ${link.id}`;
  } else if (email && verified) {
    [account] = audience === 'customer'
      ? await tx<Account[]>`select id, disabled_at from customers where tenant_id = ${tenantId} and email = ${email}`
      : await tx<Account[]>`select id, disabled_at from staff where tenant_id = ${tenantId} and email = ${email}`;
    linked = Boolean(account);
  }
  if (!account) {
    if (!provider.allowCreate || !email || !verified) return { ok: false, reason: 'no_account' };
    const taken = audience === 'customer'
      ? await tx`select 1 from customers where tenant_id = ${tenantId} and email = ${email}`
      : await tx`select 1 from staff where tenant_id = ${tenantId} and email = ${email}`;
    if (taken.length) return { ok: false, reason: 'email_taken' };
    const name = upstreamName(claims, email);
    [account] = audience === 'customer'
      ? await tx<Account[]>`insert into customers (tenant_id, email, name, password_hash)
          values (${tenantId}, ${email}, ${name}, ${NO_LOCAL_PASSWORD}) returning id, disabled_at`
      : await tx<Account[]>`insert into staff (tenant_id, email, name, role, password_hash, may_approve)
          values (${tenantId}, ${email}, ${name}, ${role!}, ${NO_LOCAL_PASSWORD}, false) returning id, disabled_at`;
    created = true;
    linked = true;
  }
  if (account!.disabled_at) return { ok: false, reason: 'disabled' };
  if (audience === 'staff') {
    await tx`update staff set role = ${role!} where tenant_id = ${tenantId} and id = ${account!.id} and role <> ${role!}::staff_role`;
  }
  await tx`
    insert into upstream_identities (tenant_id, audience, issuer, subject, customer_id, staff_id)
    values (${tenantId}, ${audience}, ${provider.issuer}, ${sub},
            ${audience === 'customer' ? account!.id : null}, ${audience === 'staff' ? account!.id : null})
    on conflict (tenant_id, audience, issuer, subject) do update set last_sign_in_at = now()`;
  return { ok: true, kind: audience, id: account!.id, role, created, linked };
}
