// The approval console's pages: server-rendered, no script, every value escaped (html tag from
// src/authz/html.ts). Text that came from an assistant (justification, free-text arguments) or a
// customer (return reasons) is shown in marked blocks as data, never as part of our own wording (P1).
// Values are written for people (issue 14): money in the shop's currency, before → after, times in
// the shop's zone with the zone named; the raw arguments stay one click away. The layout is one
// column that fits a 390 px phone: cards, tables that stack, long strings that wrap.
import type { Response } from 'express';
import { html, Html, setPageSecurityHeaders } from '../authz/html.js';
import type { ActionHistoryEntry, ActionStatus } from '../actions/status.js';
import { describeLimit, TOOL_AGGREGATES, TOOL_LIMITS, WRITE_TOOLS, type Guardrails, type WriteTool } from '../actions/guardrails.js';
import { cleanText, revealInvisible } from '../text/invisible.js';
import { WRITE_EXECUTORS } from '../actions/tools.js';
import type { ActionSettings } from '../actions/status.js';
import { z } from 'zod';
import { formatMoney, formatTime, majorUnits, moneyInput } from './format.js';
import { describeAction, type Fact } from './readable.js';
import { consolePath, type ConsoleStaff } from './session.js';

const STYLE = `*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:0 1rem 2rem;color:#1d1d1f;line-height:1.4;overflow-wrap:anywhere}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
header.top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem 1rem;border-bottom:1px solid #ddd;padding:.6rem 0;margin-bottom:1rem}
header.top nav a{margin-right:1rem}header.top form{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin:0}header.top button{margin:0}
.who{font-size:.9rem}.action{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}.summary{font-weight:600}
.status{display:inline-block;font-size:.8rem;font-weight:600;padding:.05rem .45rem;border-radius:1rem;background:#eee;text-transform:uppercase;letter-spacing:.03em}
.status-pending{background:#fff2cc}.status-executed{background:#dff3df}.status-rejected,.status-withdrawn,.status-failed,.status-expired{background:#f6dede}
.why{background:#eef3fb;border-left:4px solid #3b6db3;padding:.4rem .75rem;margin:.5rem 0}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem;margin:.75rem 0}dl.facts dt{color:#555}dl.facts dd{margin:0;font-weight:500}
.before{color:#555;text-decoration:line-through}.arrow{padding:0 .3rem}.after{font-weight:600}
.untrusted{border-left:4px solid #b26b00;background:#fff8ec;padding:.5rem .75rem;margin:.5rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.untrusted .label{display:block;font-size:.8rem;color:#7a4a00;font-weight:600;white-space:normal}
pre{background:#f4f4f4;padding:.5rem;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%}code{overflow-wrap:anywhere}
.muted{color:#555;font-size:.9rem}.error{color:#b00020}.notice{background:#eef7ee;padding:.5rem}
label{display:block;margin:.6rem 0 .2rem}textarea{width:100%;min-height:3rem}input,select{max-width:100%}
input[type=email],input[type=password]{width:100%;max-width:24rem;padding:.4rem}
button{margin:.5rem .5rem 0 0;padding:.4rem .9rem}
form.filters{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:flex-end}form.filters label{margin:.2rem 0}
fieldset{margin:1rem 0;border:1px solid #ccc;border-radius:6px;min-width:0}.phase label{display:flex;gap:.5rem;align-items:flex-start}
.unit{margin-left:.3rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem;vertical-align:top}
ol.history{padding-left:1.2rem}ol.history li{margin:.3rem 0}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}table.stack thead{display:none}
table.stack tr{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.3rem}table.stack td{border:0;padding:.15rem .3rem}
table.stack td::before{content:attr(data-label) ": ";color:#555;font-size:.8rem}}`;

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

/** What every signed-in page knows: the shop, who is signed in, how to write money and times. */
export interface ConsoleFrame {
  tenantName: string;
  slug: string;
  me: ConsoleStaff;
  logoutCsrf: string;
  currency: string;
  /** IANA zone for times; UTC when the shop has none. */
  timeZone: string;
}

const role = (r: string) => r.replace(/_/g, ' ');

/** The header of every signed-in page: where you are, who you are, sign-out (a POST form). */
function pageHeader(f: ConsoleFrame): Html {
  return html`<header class="top"><nav><a href="${consolePath(f.slug)}">Approvals</a>${
    f.me.role === 'tenant_admin' ? html`<a href="${consolePath(f.slug)}/settings">Phase and guardrails</a>` : ''}</nav>
<form method="post" action="${consolePath(f.slug)}/logout"><input type="hidden" name="csrf" value="${f.logoutCsrf}">
<span class="who" data-signed-in="${f.me.email}">Signed in as <strong>${f.me.name}</strong> (${f.me.email}) · ${role(f.me.role)}${f.me.mayApprove ? ' · may approve' : ''}</span>
<button type="submit">Sign out</button></form></header>`;
}

function sendFramed(res: Response, f: ConsoleFrame, status: number, title: string, body: Html): void {
  sendConsolePage(res, status, `${title} — ${f.tenantName}`, html`${pageHeader(f)}${body}`);
}

function time(iso: string | null, f: ConsoleFrame): Html {
  if (!iso) return html`—`;
  const t = formatTime(iso, f.timeZone);
  return html`<time datetime="${t.iso}">${t.text}</time>`;
}

/** P3: text shown as data, cleaned of invisible characters here too, saying how many were removed. */
function untrustedBlock(label: string, text: string, alreadyRemoved = 0): Html {
  const clean = cleanText(text);
  const removed = alreadyRemoved + clean.removed;
  const note = removed > 0
    ? html`<span class="label removed">${removed} invisible or formatting character${removed === 1 ? ' was' : 's were'} removed from this text</span>` : '';
  return html`<div class="untrusted"><span class="label">${label}</span>${note}${clean.text}</div>`;
}

function isUntrusted(v: unknown): v is { untrusted_customer_text: string; removed_characters?: unknown } {
  return Boolean(v) && typeof v === 'object' && typeof (v as Record<string, unknown>).untrusted_customer_text === 'string';
}

/** Customer-written text of the executor's context, in marked blocks. */
function customerText(context: Record<string, unknown>): Html[] {
  return Object.entries(context).filter(([, v]) => isUntrusted(v))
    .filter((e): e is [string, { untrusted_customer_text: string; removed_characters?: unknown }] => isUntrusted(e[1]))
    .map(([k, v]) => untrustedBlock(`Customer-written (${k.replace(/_/g, ' ')}) — untrusted data, not instructions`,
      v.untrusted_customer_text, Number(v.removed_characters ?? 0) || 0));
}

/** The context without customer text, as JSON, for the "current data" details. */
function plainContext(context: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => !isUntrusted(v)));
}

function factList(facts: Fact[]): Html {
  const plain = facts.filter((x) => x.kind !== 'assistant_text');
  const texts = facts.filter((x): x is Extract<Fact, { kind: 'assistant_text' }> => x.kind === 'assistant_text');
  return html`${plain.length ? html`<dl class="facts">${plain.map((x) => x.kind === 'change'
    ? html`<dt>${x.label}</dt><dd class="change"><span class="before">${x.before}</span><span class="arrow" aria-label="becomes">→</span><span class="after">${x.after}</span></dd>`
    : x.kind === 'value' ? html`<dt>${x.label}</dt><dd>${x.value}</dd>` : '')}</dl>` : ''}${texts.map((t) => untrustedBlock(t.label, t.text))}`;
}

export function toolTitle(tool: string): string {
  return (WRITE_EXECUTORS as Record<string, { title: string }>)[tool]?.title ?? tool;
}

/** A rejected action its requester decided is a withdrawal. */
export function shownStatus(a: ActionStatus): string {
  return a.status === 'rejected' && a.decided_by?.id === a.requested_by.id ? 'withdrawn' : a.status;
}

function statusBadge(a: ActionStatus): Html {
  const s = shownStatus(a);
  return html`<span class="status status-${s}">${s}</span>`;
}

export interface ActionView {
  action: ActionStatus;
  /** The executor's current reading (pending actions), or null. */
  context: Record<string, unknown> | null;
  /** Why it could not be done as things stand, or null. */
  refusal: string | null;
  /** The decision form's token (pending actions only). */
  csrf: string | null;
  /** The OAuth client's registered name, when known. */
  client: { name: string; selfRegistered: boolean } | null;
  /** Why it waits: the engine's decision when it was requested. */
  waitReason: string | null;
}

function clientLine(v: ActionView): Html {
  const id = v.action.client_id;
  if (!v.client) return html`<code>${id}</code>`;
  return html`<bdi class="client-name">${v.client.name}</bdi>${v.client.selfRegistered ? ' (self-registered, name not verified)' : ''} <span class="muted">(client <code>${id}</code>)</span>`;
}

function decisionForms(f: ConsoleFrame, v: ActionView, from: 'list' | 'page'): Html {
  const a = v.action;
  if (a.status !== 'pending' || !v.csrf) return html``;
  const mine = a.requested_by.id === f.me.staffId;
  const target = `${consolePath(f.slug)}/actions/${a.action_id}`;
  const hidden = html`<input type="hidden" name="csrf" value="${v.csrf}"><input type="hidden" name="from" value="${from}">`;
  if (mine) {
    return html`<p class="muted">You requested this action: another staff member with approver rights must approve it.</p>
<form method="post" action="${target}" class="withdraw">${hidden}<button type="submit" name="decision" value="withdraw">Withdraw</button></form>`;
  }
  if (!f.me.mayApprove) return html`<p class="muted">You do not have approver rights.</p>`;
  return html`<form method="post" action="${target}" class="decide">${hidden}
<label for="reason-${a.action_id}">Reason (required to reject)</label>
<textarea id="reason-${a.action_id}" name="reason" maxlength="1000"></textarea>
<button type="submit" name="decision" value="approve">Approve and run</button>
<button type="submit" name="decision" value="reject">Reject</button>
</form>`;
}

function resultLine(a: ActionStatus): Html {
  if (a.status === 'failed' && a.result && typeof a.result.error === 'string') return html`<p class="error">It could not be done: ${a.result.error}</p>`;
  if (a.decision_reason && (a.status === 'rejected' || a.status === 'executed' || a.status === 'expired')) {
    return html`<p class="muted">${a.status === 'executed' ? 'Note' : 'Reason'}: ${a.decision_reason}</p>`;
  }
  return html``;
}

/** One action as a card: what it does, why it waits, who asked through which client, the decision. */
function actionCard(f: ConsoleFrame, v: ActionView, from: 'list' | 'page'): Html {
  const a = v.action;
  const facts = describeAction({ tool: a.tool, arguments: a.arguments, context: v.context, result: a.result, currency: f.currency });
  const page = `${consolePath(f.slug)}/actions/${a.action_id}`;
  return html`<section class="action" id="action-${a.action_id}" data-action-id="${a.action_id}" data-tool="${a.tool}">
<div class="summary">${toolTitle(a.tool)}: ${a.summary}</div>
<p>${statusBadge(a)} <span class="muted">${from === 'list' ? html`<a href="${page}">Open this action</a> · ` : ''}action <code>${a.action_id}</code></span></p>
${a.status === 'pending' ? html`<p class="why"><strong>Why it waits:</strong> ${a.wait_reason ?? v.waitReason ?? 'every write waits for approval unless a guardrail lets it run'}</p>` : ''}
${factList(facts)}
<p class="muted">Asked by ${a.requested_by.name} (${a.requested_by.email}) through ${clientLine(v)} · ${time(a.requested_at, f)}${
  a.status === 'pending' ? html` · expires ${time(a.expires_at, f)}` : ''}</p>
${a.justification ? untrustedBlock('The assistant’s stated reason — unverified, written by the assistant', a.justification) : html`<p class="muted">No reason given.</p>`}
${v.context ? customerText(v.context) : ''}
${v.refusal && a.status === 'pending' ? html`<p class="error">As things stand this cannot be done: ${v.refusal}</p>` : ''}
${resultLine(a)}
<details class="raw"><summary>Raw arguments</summary><pre>${revealInvisible(JSON.stringify(a.arguments, null, 2))}</pre></details>
${v.context && Object.keys(plainContext(v.context)).length ? html`<details><summary>Current data (raw)</summary><pre>${revealInvisible(JSON.stringify(plainContext(v.context), null, 2))}</pre></details>` : ''}
${a.result && a.status !== 'failed' ? html`<details><summary>Result (raw)</summary><pre>${JSON.stringify(a.result, null, 2)}</pre></details>` : ''}
${decisionForms(f, v, from)}
</section>`;
}

const NOTICES: Record<string, string> = {
  executed: 'Approved: the action ran.',
  rejected: 'Rejected: the action will not run.',
  withdrawn: 'Withdrawn: the action will not run.',
  failed: 'Approved, but the action could no longer be done; see its result below.',
  settings: 'Settings saved.',
};

function noticeOf(notice: string | undefined, action: string | undefined): Html {
  return notice && NOTICES[notice] ? html`<p class="notice" role="status">${NOTICES[notice]}${action ? ` (action ${action})` : ''}</p>` : html``;
}

export const STATUS_FILTERS = ['pending', 'executed', 'rejected', 'expired', 'failed'] as const;

export interface ListFilters {
  status?: string | undefined;
  tool?: string | undefined;
  requester?: string | undefined;
}

function filterForm(f: ConsoleFrame, filters: ListFilters, requesters: { id: string; name: string; email: string }[]): Html {
  const opt = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${current === value ? new Html(' selected') : ''}>${label}</option>`;
  return html`<form method="get" action="${consolePath(f.slug)}" class="filters" role="search">
<div><label for="f-status">Status</label><select id="f-status" name="status">${opt('', 'any', filters.status ?? '')}${STATUS_FILTERS.map((s) => opt(s, s, filters.status))}</select></div>
<div><label for="f-tool">Tool</label><select id="f-tool" name="tool">${opt('', 'any', filters.tool ?? '')}${WRITE_TOOLS.map((t) => opt(t, toolTitle(t), filters.tool))}</select></div>
<div><label for="f-requester">Requested by</label><select id="f-requester" name="requester">${opt('', 'anyone', filters.requester ?? '')}${
  requesters.map((r) => opt(r.id, `${r.name} (${r.email})`, filters.requester))}</select></div>
<div><button type="submit">Filter</button> <a href="${consolePath(f.slug)}">Clear</a></div>
</form>`;
}

export function renderConsole(res: Response, p: {
  frame: ConsoleFrame; pending: ActionView[]; decided: ActionStatus[]; filters: ListFilters;
  requesters: { id: string; name: string; email: string }[]; notice?: string | undefined; noticeAction?: string | undefined;
}): void {
  const f = p.frame;
  const showPending = !p.filters.status || p.filters.status === 'pending';
  const showDecided = p.filters.status !== 'pending';
  sendFramed(res, f, 200, 'Approvals', html`<h1>Approvals — ${f.tenantName}</h1>
${noticeOf(p.notice, p.noticeAction)}
${filterForm(f, p.filters, p.requesters)}
${showPending ? html`<h2>Waiting for approval (${p.pending.length})</h2>
${p.pending.length ? p.pending.map((v) => actionCard(f, v, 'list')) : html`<p class="muted">Nothing is waiting${p.filters.tool || p.filters.requester ? ' that matches the filters' : ''}.</p>`}` : ''}
${showDecided ? html`<h2>${p.filters.status ? `Actions: ${p.filters.status}` : 'Recently decided'} (${p.decided.length})</h2>
${p.decided.length ? html`<table class="stack decided"><thead><tr><th>Requested</th><th>What</th><th>Status</th><th>Asked by</th><th>Decided by</th><th>Reason</th></tr></thead><tbody>
${p.decided.map((a) => html`<tr data-action-id="${a.action_id}" data-tool="${a.tool}"><td data-label="Requested">${time(a.requested_at, f)}</td>
<td data-label="What"><a href="${consolePath(f.slug)}/actions/${a.action_id}">${a.summary}</a></td><td data-label="Status" class="status-cell">${statusBadge(a)}</td>
<td data-label="Asked by">${a.requested_by.name}</td><td data-label="Decided by">${a.decided_by?.name ?? (a.status === 'executed' ? 'guardrail (ran at once)' : a.status === 'expired' ? 'nobody (expired)' : '—')}</td>
<td data-label="Reason">${a.decision_reason ?? ''}${a.status === 'failed' && a.result && typeof a.result.error === 'string' ? ` — ${a.result.error}` : ''}</td></tr>`)}
</tbody></table>` : html`<p class="muted">No decided actions${p.filters.tool || p.filters.requester || p.filters.status ? ' match the filters' : ' yet'}.</p>`}` : ''}`);
}

/** One history entry in words. */
function historyLine(h: ActionHistoryEntry, clientName: (id: string) => string): string {
  const who = h.actor_name ?? (h.actor_kind === 'system' ? 'the service' : h.actor_kind);
  const d = h.detail;
  const text = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : null);
  switch (h.event) {
    case 'action.requested': return `Requested by ${who}${h.client_id ? ` through ${clientName(h.client_id)}` : ''}${text('decision') ? ` — ${text('decision')}` : ''}`;
    case 'action.duplicate': return `Requested again by ${who} (identical request; this action was returned)`;
    case 'action.approved': return `Approved by ${who}${d.how === 'self-approved' ? ' (confirmed in band by the requester)' : ''}${text('reason') ? `: ${text('reason')}` : ''}`;
    case 'action.executed': return d.approval === 'guardrail' ? `Ran at once (${text('decision') ?? 'within the guardrails'})` : 'Executed';
    case 'action.failed': return `Failed: ${text('error') ?? 'it could no longer be done'}`;
    case 'action.rejected': return d.withdrawn ? `Withdrawn by ${who}${text('reason') ? `: ${text('reason')}` : ''}` : `Rejected by ${who}${text('reason') ? `: ${text('reason')}` : ''}`;
    case 'action.expired': return 'Expired without a decision';
    case 'action.decision_refused': return `A decision by ${who} was refused (${text('code') ?? 'refused'})`;
    default: return `${h.event} by ${who}`;
  }
}

/** The action's history: the audit entries, or what the action row itself records. */
function history(f: ConsoleFrame, v: ActionView, entries: ActionHistoryEntry[]): Html {
  const a = v.action;
  const clientName = (id: string) => (id === a.client_id && v.client ? `${v.client.name} (client ${id})` : `client ${id}`);
  const rows: { at: string | null; text: string }[] = entries.length
    ? entries.map((h) => ({ at: h.at, text: historyLine(h, clientName) }))
    : [
      { at: a.requested_at, text: `Requested by ${a.requested_by.name}` },
      ...(a.decided_at ? [{ at: a.decided_at, text: `${shownStatus(a)}${a.decided_by ? ` by ${a.decided_by.name}` : ''}` }] : []),
      ...(a.executed_at ? [{ at: a.executed_at, text: 'Executed' }] : []),
    ];
  return html`<ol class="history">${rows.map((r) => html`<li>${time(r.at, f)} — ${r.text}</li>`)}</ol>`;
}

export function renderActionPage(res: Response, p: { frame: ConsoleFrame; view: ActionView; history: ActionHistoryEntry[]; notice?: string | undefined }): void {
  const f = p.frame;
  const a = p.view.action;
  sendFramed(res, f, 200, `${toolTitle(a.tool)} (${shownStatus(a)})`, html`<p><a href="${consolePath(f.slug)}">← All actions</a></p>
<h1>${toolTitle(a.tool)}</h1>
${noticeOf(p.notice, undefined)}
${actionCard(f, p.view, 'page')}
<h2>History</h2>
${history(f, p.view, p.history)}`);
}

// ---------------------------------------------------------------------------------------------
// Settings: the phase, the guardrails and the self-approval limit, money in the shop's currency.

export const PHASES: readonly { phase: 1 | 2 | 3; name: string; explanation: string }[] = [
  { phase: 1, name: 'Every write waits', explanation: 'Every write an assistant asks for waits until a staff member with approver rights approves it here.' },
  { phase: 2, name: 'Guardrails', explanation: 'A write runs at once when it is at or below every limit of its tool; above any limit, or when a limit is left empty, it waits for approval.' },
  { phase: 3, name: 'Customer endpoint on', explanation: 'As phase 2, and the customer MCP endpoint is open: customers’ assistants can sign in and use it.' },
];

const LIMIT_LABELS: Readonly<Record<string, string>> = {
  max_quantity: 'At most this many units per purchase order',
  max_value_cents: 'At most this value',
  max_amount_cents: 'At most this amount',
  max_change_percent: 'At most this price change, in percent (up or down)',
};

/** Money limits (…_cents) are entered in major units under a field name without the suffix. */
const isMoneyLimit = (limit: string) => limit.endsWith('_cents');
const fieldOf = (tool: string, limit: string) => `${tool}.${isMoneyLimit(limit) ? limit.slice(0, -'_cents'.length) : limit}`;
const limitLabel = (limit: string) => LIMIT_LABELS[limit] ?? capitalised(describeLimit(limit).replace(/, in cents$/, ''));
const capitalised = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
/** Every limit a tool's entry may hold: per action, then in aggregate (A7). */
const limitsOf = (tool: WriteTool) => [...TOOL_LIMITS[tool], ...TOOL_AGGREGATES[tool]];

export function renderSettings(res: Response, p: { frame: ConsoleFrame; settings: ActionSettings; csrf: string; error?: string; saved?: boolean; status?: number }): void {
  const f = p.frame;
  const g = p.settings.guardrails as Record<string, Record<string, number | boolean | undefined> | undefined>;
  const rows = WRITE_TOOLS.map((tool) => {
    const entry = g[tool] ?? {};
    const limits = limitsOf(tool);
    return html`<fieldset><legend>${toolTitle(tool)} (<code>${tool}</code>)</legend>
${limits.length ? limits.map((limit) => {
    const id = fieldOf(tool, limit);
    const v = entry[limit];
    const value = typeof v !== 'number' ? '' : isMoneyLimit(limit) ? majorUnits(v, f.currency) : String(v);
    return html`<label for="${id}">${limitLabel(limit)}${isMoneyLimit(limit) ? ` (${f.currency})` : ''}</label>
<input id="${id}" name="${id}" inputmode="${limit === 'max_quantity' ? 'numeric' : 'decimal'}" value="${value}">${isMoneyLimit(limit) ? html`<span class="unit">${f.currency}</span>` : ''}${
  typeof v === 'number' && isMoneyLimit(limit) ? html` <span class="muted">now ${formatMoney(v, f.currency)}</span>` : ''}`;
  })
  : html`<label><input type="checkbox" name="${tool}.run_at_once" value="1"${entry.run_at_once === true ? new Html(' checked') : ''}> run at once in phases 2 and 3 (it measures no amount)</label>`}
</fieldset>`;
  });
  sendFramed(res, f, p.status ?? 200, 'Phase and guardrails', html`<h1>Phase and guardrails — ${f.tenantName}</h1>
<p><a href="${consolePath(f.slug)}/settings/sign-in">Sign-in methods</a></p>
${p.saved ? html`<p class="notice" role="status">Settings saved.</p>` : ''}
${p.error ? html`<p class="error" role="alert">${p.error}</p>` : ''}
<form method="post" action="${consolePath(f.slug)}/settings">
<input type="hidden" name="csrf" value="${p.csrf}">
<fieldset class="phase"><legend>Phase</legend>
${PHASES.map((ph) => html`<label><input type="radio" name="phase" value="${ph.phase}"${p.settings.phase === ph.phase ? new Html(' checked') : ''}>
<span><strong>Phase ${ph.phase}: ${ph.name}.</strong> <span class="muted">${ph.explanation}</span></span></label>`)}
</fieldset>
<fieldset><legend>Self-approval</legend>
<label for="self_approval_limit">A requester with approver rights may confirm their own action in the conversation up to this amount (${f.currency}; 0 = never)</label>
<input id="self_approval_limit" name="self_approval_limit" inputmode="decimal" value="${majorUnits(p.settings.selfApprovalLimitCents, f.currency)}"><span class="unit">${f.currency}</span>
</fieldset>
<fieldset><legend>Time zone</legend>
<label for="time_zone">Times in this console are shown in this zone (an IANA name such as Europe/Amsterdam; empty = UTC)</label>
<input id="time_zone" name="time_zone" maxlength="64" autocomplete="off" value="${f.timeZone === 'UTC' ? '' : f.timeZone}" placeholder="UTC">
</fieldset>
<h2>Guardrails (phases 2 and 3)</h2>
<p class="muted">Amounts are in ${f.currency}. A write at or below every limit of its tool runs at once; anything above a limit waits. An empty per-action limit means that tool always waits.</p>
<p class="muted">The limits “per order”, “per customer”, “per product”, “per requester” and “for the whole shop” hold in aggregate: the action waits when the total of
the same tool’s executed and still-pending actions for that order (ever), or that customer, product, requester or the whole shop (last 24 hours), with this one added,
would exceed them. Empty: no aggregate limit.</p>
${rows}
<button type="submit">Save</button>
</form>`);
}

const wholeNumber = z.string().trim().regex(/^\d{1,12}$/, 'a whole number, 0 or more').transform(Number);
const percent = z.string().trim().regex(/^\d{1,4}(\.\d{1,2})?$/, 'a percentage of 0 or more, at most two decimals').transform(Number);

/** Reads an amount field (major units) as minor units; an empty field is `undefined`. */
export function moneyFromForm(raw: unknown, currency: string): { cents?: number; error?: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return {};
  const parsed = moneyInput(currency).safeParse(raw);
  return parsed.success ? { cents: parsed.data } : { error: parsed.error.issues[0]?.message ?? 'not an amount' };
}

/** Reads the settings form back into guardrails; blank fields are left out (that limit then waits). */
export function guardrailsFromForm(body: Record<string, unknown>, currency: string): { guardrails: Guardrails; error?: string } {
  const out: Record<string, Record<string, number | boolean>> = {};
  for (const tool of WRITE_TOOLS) {
    const entry: Record<string, number | boolean> = {};
    for (const limit of limitsOf(tool)) {
      const raw = body[fieldOf(tool, limit)];
      if (typeof raw !== 'string' || raw.trim() === '') continue;
      const where = `${toolTitle(tool)}, ${limitLabel(limit).toLowerCase()}`;
      if (isMoneyLimit(limit)) {
        const m = moneyFromForm(raw, currency);
        if (m.error || m.cents === undefined) return { guardrails: {}, error: `${where}: enter ${m.error ?? 'an amount'} (${currency})` };
        entry[limit] = m.cents;
      } else {
        const parsed = (limit === 'max_change_percent' ? percent : wholeNumber).safeParse(raw);
        if (!parsed.success) return { guardrails: {}, error: `${where}: enter ${parsed.error.issues[0]?.message ?? 'a number'}` };
        entry[limit] = parsed.data;
      }
    }
    if (TOOL_LIMITS[tool].length === 0 && body[`${tool}.run_at_once`] === '1') entry.run_at_once = true;
    if (Object.keys(entry).length) out[tool] = entry;
  }
  return { guardrails: out as Guardrails };
}
