// The console's "Sign-in" section (issue 13 §3): a tenant admin sees the tenant's identity providers
// and sets or removes the upstream OpenID Connect provider for customers and for staff, and the
// enterprise IdP for ID-JAGs. The client secret is a write-only field: never rendered back (only
// "set"), kept when left empty. Validation is the same as the admin command's
// (src/authz/federation/upstream-config.ts).
import type { Response } from 'express';
import { html, Html } from '../authz/html.js';
import { callbackUrl } from '../authz/federation/start.js';
import { PROVIDER_AUDIENCES, STAFF_ROLES, type IdentityProvider, type ProviderAudience } from '../authz/federation/upstream-config.js';
import { sendConsolePage } from './pages.js';
import { consolePath } from './session.js';

const TITLES: Record<ProviderAudience, string> = {
  customer: 'Customers: sign in with the shop\'s own accounts',
  staff: 'Staff: single sign-on',
  enterprise: 'Enterprise IdP: staff assistants with ID-JAGs',
};

export function signInSettingsPath(slug: string): string {
  return `${consolePath(slug)}/settings/sign-in`;
}

const checked = (on: boolean) => (on ? new Html(' checked') : '');

function field(audience: string, name: string, label: string, value: string, hint = ''): Html {
  return html`<label for="${audience}.${name}">${label}${hint ? html` <span class="muted">${hint}</span>` : ''}</label>
<input id="${audience}.${name}" name="${name}" value="${value}" maxlength="1000" style="width:100%;max-width:36rem">`;
}

function providerForm(p: { slug: string; publicUrl: string; audience: ProviderAudience; current: IdentityProvider | undefined; csrf: string }): Html {
  const c = p.current;
  const a = p.audience;
  const mapping = Object.entries(c?.roleMapping ?? {}).map(([g, r]) => `${g}=${r}`).join('\n');
  return html`<section id="${a}"><h2>${TITLES[a]}</h2>
${c ? html`<p class="muted">Configured: ${c.issuer}${a !== 'enterprise' ? html` — client secret ${c.clientSecretSealed ? 'set (encrypted, not shown)' : 'not set'}` : ''}</p>` : html`<p class="muted">Not configured.</p>`}
${a !== 'enterprise' ? html`<p class="muted">Register <code>${callbackUrl(p.publicUrl, p.slug)}</code> as the redirect URI at the provider.</p>` : ''}
<form method="post" action="${signInSettingsPath(p.slug)}">
<input type="hidden" name="csrf" value="${p.csrf}"><input type="hidden" name="audience" value="${a}">
${field(a, 'issuer', 'Issuer', c?.issuer ?? '', '(https URL, exactly as the provider names itself)')}
${field(a, 'display_name', 'Name on the sign-in page', c?.displayName ?? '')}
${a !== 'enterprise' ? html`${field(a, 'client_id', 'Client id', c?.clientId ?? '')}
<label for="${a}.client_secret">Client secret <span class="muted">(leave empty to keep the current one)</span></label>
<input id="${a}.client_secret" name="client_secret" type="password" autocomplete="off" value="" maxlength="2000">
${field(a, 'scopes', 'Scopes', (c?.scopes ?? ['openid', 'email', 'profile']).join(' '))}
${field(a, 'email_claim', 'Email claim', c?.emailClaim ?? 'email')}
<label><input type="checkbox" name="allow_create" value="1"${checked(c?.allowCreate ?? false)}> create the account on first sign-in (verified email only)</label>
<label><input type="checkbox" name="passwords_enabled" value="1"${checked(c?.passwordsEnabled ?? true)}> also offer our own passwords</label>` : html`${field(a, 'jwks_uri', 'JWKS URI', c?.jwksUri ?? '')}
${field(a, 'allowed_client_ids', 'Allowed client ids', (c?.allowedClientIds ?? []).join(' '), '(space-separated; staff clients made with --jwt-bearer)')}
<label for="${a}.subject_claim">Subject mapping</label>
<select id="${a}.subject_claim" name="subject_claim">${['sub', 'email'].map((s) => html`<option value="${s}"${c?.subjectClaim === s ? new Html(' selected') : ''}>${s}</option>`)}</select>`}
${a === 'staff' ? html`${field(a, 'roles_claim', 'Groups or roles claim', c?.rolesClaim ?? 'groups')}
<label for="${a}.role_mapping">Group → role, one per line (<code>group=role</code>; roles: ${STAFF_ROLES.join(', ')}). No mapping, no access.</label>
<textarea id="${a}.role_mapping" name="role_mapping">${mapping}</textarea>` : ''}
<button type="submit" name="op" value="save">Save</button>${c ? html`<button type="submit" name="op" value="remove">Remove</button>` : ''}
</form></section>`;
}

export function renderSignInSettings(res: Response, p: { tenantName: string; slug: string; publicUrl: string; providers: IdentityProvider[]; csrf: string; error?: string; saved?: boolean; status?: number }): void {
  sendConsolePage(res, p.status ?? 200, `Sign-in — ${p.tenantName}`, html`<h1>Sign-in — ${p.tenantName}</h1>
<p><a href="${consolePath(p.slug)}">Back to the pending actions</a> · <a href="${consolePath(p.slug)}/settings">Phase and guardrails</a></p>
${p.saved ? html`<p class="notice" role="status">Sign-in settings saved.</p>` : ''}
${p.error ? html`<p class="error" role="alert">${p.error}</p>` : ''}
${PROVIDER_AUDIENCES.map((audience) => providerForm({ slug: p.slug, publicUrl: p.publicUrl, audience, current: p.providers.find((x) => x.audience === audience), csrf: p.csrf }))}`);
}

/** The form back into provider settings (checked again by saveProvider). */
export function providerFromForm(audience: ProviderAudience, body: Record<string, unknown>): Record<string, unknown> {
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const list = (k: string) => text(k).split(/\s+/).filter(Boolean);
  const settings: Record<string, unknown> = { issuer: text('issuer'), displayName: text('display_name') };
  if (audience === 'enterprise') {
    if (text('jwks_uri')) settings.jwksUri = text('jwks_uri');
    settings.allowedClientIds = list('allowed_client_ids');
    settings.subjectClaim = text('subject_claim') || 'sub';
  } else {
    settings.clientId = text('client_id') || undefined;
    if (text('client_secret')) settings.clientSecret = text('client_secret');
    settings.scopes = list('scopes');
    settings.emailClaim = text('email_claim') || 'email';
    settings.allowCreate = body.allow_create === '1';
    settings.passwordsEnabled = body.passwords_enabled === '1';
  }
  if (audience === 'staff') {
    if (text('roles_claim')) settings.rolesClaim = text('roles_claim');
    const mapping: Record<string, string> = {};
    for (const line of text('role_mapping').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
      const i = line.lastIndexOf('=');
      if (i > 0) mapping[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      else mapping[line] = '';
    }
    settings.roleMapping = mapping;
  }
  return settings;
}
