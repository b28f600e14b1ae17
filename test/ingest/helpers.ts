// Shared by the ingestion tests: a service client and its token through the real token endpoint,
// and uploads over real HTTP.
import { ingestResourceFor } from '../../src/authz/resources.js';
import { runAdmin } from '../../src/cli/admin.js';
import type { TestService } from '../support/service.js';

export function ingestUrl(s: TestService, slug: string): string {
  return ingestResourceFor({ internalUrl: s.internalUrl }, slug);
}

export async function admin(s: TestService, ...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await runAdmin(s.database.owner, args, (l) => out.push(l));
  return { code, out };
}

export async function serviceClient(s: TestService, slug: string, scope: string): Promise<{ id: string; secret: string }> {
  const { out } = await admin(s, 'clients', 'create', slug, '--name', `Uploader ${scope}`, '--audience', 'service', '--scope', scope);
  const field = (name: string) => out.find((l) => l.startsWith(`${name}\t`))!.split('\t')[1]!;
  return { id: field('client_id'), secret: field('client_secret') };
}

export async function clientCredentials(s: TestService, slug: string, client: { id: string; secret: string }, form: Record<string, string> = {}) {
  const res = await fetch(`${s.publicUrl}/t/${slug}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: ingestUrl(s, slug), ...form }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

export async function uploadToken(s: TestService, slug: string): Promise<string> {
  const t = await clientCredentials(s, slug, await serviceClient(s, slug, 'ingest:write'));
  if (t.status !== 200) throw new Error(`token: ${JSON.stringify(t.body)}`);
  return t.body.access_token!;
}

export async function upload(s: TestService, slug: string, token: string, body: string | string[], headers: Record<string, string> = {}) {
  const res = await fetch(ingestUrl(s, slug), {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}`, ...headers },
    body: Array.isArray(body) ? `${body.join('\n')}\n` : body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}
