// The login and consent pages (docs/DESIGN.md §2): plain forms, no script, every value escaped.
import type { Response } from 'express';
import { cleanClientName, isVerifiedClientSource } from './checks/client-name.js';
import { html, sendPage, type Html } from './html.js';
import type { Interaction } from './interactions.js';
import { describeScope } from './scopes.js';

export interface PageContext {
  tenantName: string;
  action: string; // form action path
  csrf: string;
}

/**
 * O15: the client's name as text its registrant chose: cleaned again here (rows stored before
 * names were cleaned), and marked unverified unless the shop registered the client itself.
 */
function clientLabel(r: Interaction['request'], tenantName: string): { name: string; tag: Html | string; warning: Html | string } {
  const name = cleanClientName(r.clientName) ?? 'Unnamed application';
  if (isVerifiedClientSource(r.clientSource)) return { name, tag: '', warning: '' };
  return {
    name,
    tag: html` <span class="muted">(unverified)</span>`,
    warning: html`<p class="muted">“${name}” is the name the application gave itself: <strong>unverified</strong>, not checked by ${tenantName}.</p>`,
  };
}

/** "Continue with <shop>": the tenant's upstream provider for this audience, and whether passwords stay offered. */
export interface UpstreamOption { label: string; href: string; passwords: boolean }

export function renderLogin(res: Response, ctx: PageContext, interaction: Interaction, options: { status?: number; error?: string; upstream?: UpstreamOption | null } = {}): void {
  const who = interaction.request.resourceKind === 'internal' ? 'staff account' : 'customer account';
  const client = clientLabel(interaction.request, ctx.tenantName);
  const upstream = options.upstream;
  const passwords = !upstream || upstream.passwords;
  sendPage(res, options.status ?? 200, `Sign in to ${ctx.tenantName}`, html`
<h1>Sign in to ${ctx.tenantName}</h1>
<p class="muted">with your ${who}, to connect <strong>${client.name}</strong>${client.tag}.</p>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
${upstream ? html`<p><a class="button" id="upstream" href="${upstream.href}">Continue with ${upstream.label}</a></p>${passwords ? html`<p class="muted">or with a password:</p>` : ''}` : ''}
${passwords ? html`<form method="post" action="${ctx.action}">
<input type="hidden" name="csrf" value="${ctx.csrf}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required maxlength="254">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Sign in</button>
</form>` : ''}`, new URL(interaction.request.redirectUri).origin);
}

/** The account signed in to the request, and where "Not you?" posts. */
export interface SignedInAccount {
  name: string;
  email: string;
  /** The staff role (internal endpoint), null for customers. */
  role: string | null;
  switchAction: string;
}

export function renderConsent(res: Response, ctx: PageContext, interaction: Interaction, account: SignedInAccount): void {
  const r = interaction.request;
  const redirectHost = new URL(r.redirectUri).host;
  const scopes = r.grantedScope ?? [];
  const client = clientLabel(r, ctx.tenantName);
  const staff = r.resourceKind === 'internal';
  const idLine = /^https?:\/\//.test(r.clientId) ? html`<p class="muted">Client identity published at ${r.clientId}</p>` : '';
  sendPage(res, 200, `Allow ${client.name}?`, html`
<h1>Allow ${client.name}${client.tag} to access your ${ctx.tenantName} account?</h1>
${client.warning}
<p class="account">Signed in as <strong>${account.name}</strong> (${account.email})${account.role ? html` · ${account.role.replace(/_/g, ' ')}` : ''}.
<a href="#switch-account">Not you?</a></p>
${staff ? html`<p class="staff-access"><strong>This gives ${client.name} staff operations access to ${ctx.tenantName}.</strong>
It acts as you, with your role’s permissions, on the shop’s internal operations endpoint, within the permissions listed below.
Changes it asks for wait for an approver unless the shop’s guardrails let them run at once.</p>` : ''}
${idLine}
<p>After you decide, you will be sent to <strong><code>${redirectHost}</code></strong>.</p>
<p>It will be able to:</p>
<ul>${scopes.map((s) => html`<li>${describeScope(s)} <span class="muted">(${s})</span></li>`)}</ul>
<form method="post" action="${ctx.action}">
<input type="hidden" name="csrf" value="${ctx.csrf}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<form method="post" action="${account.switchAction}" class="switch-account" id="switch-account">
<input type="hidden" name="csrf" value="${ctx.csrf}">
<p class="muted">Not ${account.name}? <button type="submit" name="switch" value="1">Sign out and sign in as someone else</button></p>
</form>`, new URL(r.redirectUri).origin);
}
