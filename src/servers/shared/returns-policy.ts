// The tenant's returns policy as both capability sets show it.
import type { CallContext } from '../mcp/capability.js';

export async function loadReturnsPolicy(ctx: CallContext) {
  const [s] = await ctx.tx<{ return_window_days: number; non_returnable_categories: string[]; returns_policy_text: string; currency: string }[]>`
    select return_window_days, non_returnable_categories, returns_policy_text, currency
    from tenant_settings where tenant_id = ${ctx.tenantId}`;
  if (!s) return null;
  return {
    return_window_days: s.return_window_days,
    non_returnable_categories: s.non_returnable_categories,
    policy: s.returns_policy_text,
    how_to_return: 'Check eligibility with check_return_eligibility, then start_return with the lines, quantities and reason.',
  };
}
