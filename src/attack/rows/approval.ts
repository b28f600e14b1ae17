// A6: four-eyes approval in the console (PRODUCT.md §1): an approver cannot approve their own
// action; expired or rejected actions cannot be approved; a replayed approval form is refused.
import { Checks, notApplicable, type AttackRow } from '../types.js';

export const a6: AttackRow = {
  id: 'A6',
  title: 'approver approves own action; approval of an expired/rejected action; replayed approval form',
  expected: 'refused',
  async run(ctx) {
    if (!ctx.options.internal) return notApplicable('internal listener not given (--internal): the approval console lives there');
    const res = await ctx.http.fetch(`${ctx.options.internal}/console`);
    await res.arrayBuffer();
    if (res.status === 404) return notApplicable(`no approval console at ${ctx.options.internal}/console (404)`);
    const c = new Checks();
    c.expect('approval console automated by the suite', false, `a console answers at /console (${res.status}) but the suite does not drive it yet: extend src/attack/rows/approval.ts`);
    return c.result();
  },
};
