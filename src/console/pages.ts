// The approval console's pages: server-rendered, no script, every value escaped (html tag from
// src/authz/html.ts). Text that came from an assistant (justification, arguments) or a customer
// (return reasons) is shown in marked blocks as data, never as part of our own wording (P1).
import type { Response } from 'express';
import { html, Html, setPageSecurityHeaders } from '../authz/html.js';
import type { ActionStatus } from '../actions/status.js';
import { describeLimit, TOOL_AGGREGATES, TOOL_LIMITS, WRITE_TOOLS, type Guardrails } from '../actions/guardrails.js';
import { WRITE_EXECUTORS } from '../actions/tools.js';
import type { ActionSettings } from '../actions/status.js';
import { cleanText, revealInvisible } from '../text/invisible.js';
import { consolePath, type ConsoleStaff } from './session.js';


const STYLE = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}header{display:flex;justify-content:space-between;align-items:center;gap:1rem}
.action{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}.summary{font-weight:600}
.untrusted{border-left:4px solid #b26b00;background:#fff8ec;padding:.5rem .75rem;margin:.5rem 0;white-space:pre-wrap;word-break:break-word}
.untrusted .label{display:block;font-size:.8rem;color:#7a4a00;font-weight:600;white-space:normal}
pre{background:#f4f4f4;padding:.5rem;overflow:auto;font-size:.85rem}.muted{color:#555;font-size:.9rem}.error{color:#b00020}.notice{background:#eef7ee;padding:.5rem}
label{display:block;margin:.6rem 0 .2rem}textarea{width:100%;min-height:3rem;box-sizing:border-box}input[type=email],input[type=password]{width:100%;max-width:24rem;padding:.4rem}
button{margin:.5rem .5rem 0 0;padding:.4rem .9rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem;vertical-align:top}`;

export function sendConsolePage(res: Response, status: number, title: string, body: Html): void {
  setPageSecurityHeaders(res); // O9: as the sign-in pages: not frameable, no script, forms to us only
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${new Html(STYLE)}</style></head>
<body>${body}</body></html>`;
  res.status(status).type('html').send(page.value);
}

export function sendConsoleError(res: Response, status: number, slug: string | null, message: string): void {
  sendConsolePage(res, status, 'Approval console', html`<h1>Approval console</h1><p class="error">${message}</p>
${slug ? html`<p><a href="${consolePath(slug)}">Back to the pending actions</a></p>` : ''}`);
}

export function renderLogin(res: Response, p: { tenantName: string; slug: string; csrf: string; email?: string; error?: string; status?: number }): void {
  sendConsolePage(res, p.status ?? 200, `Sign in — ${p.tenantName}`, html`<h1>Approval console — ${p.tenantName}</h1>
<p class="muted">Staff sign-in. Approvals you make here are recorded in the audit log under your name.</p>
${p.error ? html`<p class="error" role="alert">${p.error}</p>` : ''}
<form method="post" action="${consolePath(p.slug)}/login">
<input type="hidden" name="csrf" value="${p.csrf}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${p.email ?? ''}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`);
}

/** P3: text shown as data, cleaned of invisible characters here too, saying how many were removed. */
function untrustedBlock(label: string, text: string, alreadyRemoved = 0): Html {
  const clean = cleanText(text);
  const removed = alreadyRemoved + clean.removed;
  const note = removed > 0
    ? html`<span class="label removed">${removed} invisible or formatting character${removed === 1 ? ' was' : 's were'} removed from this text</span>` : '';
  return html`<div class="untrusted"><span class="label">${label}</span>${note}${clean.text}</div>`;
}

function isUntrusted(v: unknown): v is { untrusted_customer_text: string; removed_characters?: number } {
  return Boolean(v) && typeof v === 'object' && typeof (v as Record<string, unknown>).untrusted_customer_text === 'string';
}

/** The executor's context: customer-written text in marked blocks, the rest as JSON. */
function renderContext(context: Record<string, unknown>): Html {
  const plain: Record<string, unknown> = {};
  const blocks: Html[] = [];
  for (const [k, v] of Object.entries(context)) {
    if (isUntrusted(v)) blocks.push(untrustedBlock(`Customer-written (${k.replace(/_/g, ' ')}) — untrusted data, not instructions`, v.untrusted_customer_text, Number(v.removed_characters ?? 0) || 0));
    else plain[k] = v;
  }
  return html`${blocks}${Object.keys(plain).length ? html`<pre>${revealInvisible(JSON.stringify(plain, null, 2))}</pre>` : ''}`;
}

export interface PendingView {
  action: ActionStatus;
  context: Record<string, unknown> | null;
  refusal: string | null;
  csrf: string;
}

function title(tool: string): string {
  return (WRITE_EXECUTORS as Record<string, { title: string }>)[tool]?.title ?? tool;
}

function pendingCard(slug: string, me: ConsoleStaff, p: PendingView): Html {
  const a = p.action;
  const mine = a.requested_by.id === me.staffId;
  const canApprove = me.mayApprove && !mine;
  const canReject = me.mayApprove || mine;
  return html`<section class="action" id="action-${a.action_id}" data-action-id="${a.action_id}">
<div class="summary">${title(a.tool)}: ${a.summary}</div>
<p class="muted">Action ${a.action_id} · asked by ${a.requested_by.name} (${a.requested_by.email}) through client <code>${a.client_id}</code>
 · ${a.requested_at} · expires ${a.expires_at}</p>
${a.wait_reason ? html`<p class="wait-reason">Why it waits: ${a.wait_reason}</p>` : ''}
${a.justification ? untrustedBlock('The assistant’s stated reason — unverified, written by the assistant', a.justification) : html`<p class="muted">No reason given.</p>`}
<details open><summary>Arguments (as the assistant sent them)</summary><pre>${revealInvisible(JSON.stringify(a.arguments, null, 2))}</pre></details>
${p.refusal ? html`<p class="error">As things stand this cannot be done: ${p.refusal}</p>` : p.context ? html`<details open><summary>Current data</summary>${renderContext(p.context)}</details>` : ''}
${mine ? html`<p class="muted">You requested this action: another staff member with approver rights must approve it.</p>` : ''}
${!me.mayApprove && !mine ? html`<p class="muted">You do not have approver rights.</p>` : ''}
${canApprove || canReject ? html`<form method="post" action="${consolePath(slug)}/actions/${a.action_id}">
<input type="hidden" name="csrf" value="${p.csrf}">
<label for="reason-${a.action_id}">Reason (required to reject)</label>
<textarea id="reason-${a.action_id}" name="reason" maxlength="1000"></textarea>
${canApprove ? html`<button type="submit" name="decision" value="approve">Approve and run</button>` : ''}
${canReject ? html`<button type="submit" name="decision" value="reject">${mine ? 'Withdraw' : 'Reject'}</button>` : ''}
</form>` : ''}
</section>`;
}

const NOTICES: Record<string, string> = {
  executed: 'Approved: the action ran.',
  rejected: 'Rejected: the action will not run.',
  failed: 'Approved, but the action could no longer be done; see its result below.',
  settings: 'Settings saved.',
};

export function renderConsole(res: Response, p: {
  tenantName: string; slug: string; me: ConsoleStaff; pending: PendingView[]; recent: ActionStatus[]; logoutCsrf: string;
  notice?: string | undefined; noticeAction?: string | undefined;
}): void {
  const notice = p.notice && NOTICES[p.notice] ? html`<p class="notice" role="status">${NOTICES[p.notice]}${p.noticeAction ? ` (action ${p.noticeAction})` : ''}</p>` : '';
  sendConsolePage(res, 200, `Approvals — ${p.tenantName}`, html`<header><h1>Approvals — ${p.tenantName}</h1>
<form method="post" action="${consolePath(p.slug)}/logout"><input type="hidden" name="csrf" value="${p.logoutCsrf}">
<span class="muted">${p.me.name} (${p.me.role.replace(/_/g, ' ')})</span> <button type="submit">Sign out</button></form></header>
${p.me.role === 'tenant_admin' ? html`<p><a href="${consolePath(p.slug)}/settings">Phase and guardrails</a></p>` : ''}
${notice}
<h2>Waiting for approval (${p.pending.length})</h2>
${p.pending.length ? p.pending.map((v) => pendingCard(p.slug, p.me, v)) : html`<p class="muted">Nothing is waiting.</p>`}
<h2>Recently decided</h2>
${p.recent.length ? html`<table><thead><tr><th>Action</th><th>What</th><th>Status</th><th>Asked by</th><th>Decided by</th><th>Reason</th></tr></thead><tbody>
${p.recent.map((a) => html`<tr data-action-id="${a.action_id}"><td><code>${a.action_id}</code></td><td>${a.summary}</td><td class="status">${a.status}</td>
<td>${a.requested_by.name}</td><td>${a.decided_by?.name ?? (a.status === 'executed' ? 'guardrail' : '—')}</td><td>${a.decision_reason ?? ''}${
  a.status === 'failed' && a.result && typeof a.result.error === 'string' ? ` — ${a.result.error}` : ''}${
  a.wait_reason ? ` (waited: ${a.wait_reason})` : ''}</td></tr>`)}
</tbody></table>` : html`<p class="muted">No decisions yet.</p>`}`);
}

export function renderSettings(res: Response, p: { tenantName: string; slug: string; settings: ActionSettings; csrf: string; error?: string; saved?: boolean; status?: number }): void {
  const g = p.settings.guardrails as Record<string, Record<string, number | boolean | undefined> | undefined>;
  const rows = WRITE_TOOLS.map((tool) => {
    const entry = g[tool] ?? {};
    const limits = [...TOOL_LIMITS[tool], ...TOOL_AGGREGATES[tool]];
    return html`<fieldset><legend>${title(tool)} (<code>${tool}</code>)</legend>
${limits.length ? limits.map((limit) => html`<label for="${tool}.${limit}">${limit} — ${describeLimit(limit)}</label>
<input id="${tool}.${limit}" name="${tool}.${limit}" inputmode="numeric" value="${entry[limit] === undefined ? '' : String(entry[limit])}">`)
  : html`<label><input type="checkbox" name="${tool}.run_at_once" value="1"${entry.run_at_once === true ? new Html(' checked') : ''}> run at once in phases 2 and 3</label>`}
</fieldset>`;
  });
  sendConsolePage(res, p.status ?? 200, `Phase and guardrails — ${p.tenantName}`, html`<h1>Phase and guardrails — ${p.tenantName}</h1>
<p><a href="${consolePath(p.slug)}">Back to the pending actions</a> · <a href="${consolePath(p.slug)}/settings/sign-in">Sign-in</a></p>
${p.saved ? html`<p class="notice" role="status">Settings saved.</p>` : ''}
${p.error ? html`<p class="error" role="alert">${p.error}</p>` : ''}
<p class="muted">Phase 1: every write waits for approval. Phase 2: a write runs at once when it is at or below every limit of its tool;
above any limit, or when a limit is left empty, it waits. Phase 3: as phase 2, and the customer endpoint is open.</p>
<p class="muted">The <code>per_…</code> limits hold in aggregate: the action waits when the total of the same tool's executed and still-pending
actions for that order (ever), customer, product, requester or the whole shop (last 24 hours), with this one added, would exceed them.
Empty: no aggregate limit.</p>
<form method="post" action="${consolePath(p.slug)}/settings">
<input type="hidden" name="csrf" value="${p.csrf}">
<label for="phase">Phase</label>
<select id="phase" name="phase">${[1, 2, 3].map((n) => html`<option value="${n}"${p.settings.phase === n ? new Html(' selected') : ''}>${n}</option>`)}</select>
<label for="self_approval_limit_cents">Self-approval limit in cents (in-band confirmation by the requester; 0 = never)</label>
<input id="self_approval_limit_cents" name="self_approval_limit_cents" inputmode="numeric" value="${String(p.settings.selfApprovalLimitCents)}">
${rows}
<button type="submit">Save</button>
</form>`);
}

/** Reads the settings form back into guardrails; blank fields are left out (that limit then waits). */
export function guardrailsFromForm(body: Record<string, unknown>): { guardrails: Guardrails; error?: string } {
  const out: Record<string, Record<string, number | boolean>> = {};
  for (const tool of WRITE_TOOLS) {
    const entry: Record<string, number | boolean> = {};
    for (const limit of [...TOOL_LIMITS[tool], ...TOOL_AGGREGATES[tool]]) {
      const raw = body[`${tool}.${limit}`];
      if (typeof raw !== 'string' || raw.trim() === '') continue;
      const n = Number(raw.trim());
      if (!Number.isFinite(n) || n < 0 || (limit !== 'max_change_percent' && !Number.isInteger(n))) {
        return { guardrails: {}, error: `${tool} ${limit}: enter a whole number of at least 0` };
      }
      entry[limit] = n;
    }
    if (TOOL_LIMITS[tool].length === 0 && body[`${tool}.run_at_once`] === '1') entry.run_at_once = true;
    if (Object.keys(entry).length) out[tool] = entry;
  }
  return { guardrails: out as Guardrails };
}
