// What a tester with the operator's access does to set a deployment up for a row: the admin command
// line (`npm run admin -- …`), driven as a library on the owner connection the suite was given.
// Through the operator's interface, not the service's modules, so a row never shares the code path
// it attacks (test/attack/boundary.test.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type postgres from 'postgres';
import { runAdmin } from '../src/cli/admin.js';

export type ProviderAudience = 'customer' | 'staff' | 'enterprise';

/** The settings a row gives a provider, in the admin command's terms. */
export interface ProviderSettings {
  issuer: string;
  displayName?: string;
  clientId?: string;
  allowCreate?: boolean;
  rolesClaim?: string;
  roleMapping?: Record<string, string>;
  jwks?: unknown;
  allowedClientIds?: string[];
  subjectClaim?: 'sub' | 'email';
}

/** Runs one admin command; a non-zero status is an error carrying what it printed. */
async function admin(owner: postgres.Sql, argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  const status = await runAdmin(owner, argv, (l) => lines.push(l));
  if (status !== 0) throw new Error(`npm run admin -- ${argv.slice(0, 3).join(' ')} … exited ${status}: ${lines.join(' ')}`);
  return lines;
}

/** `idp show <tenant> --json`: whether the tenant already has a provider for `audience`. */
export async function hasProvider(owner: postgres.Sql, slug: string, audience: ProviderAudience): Promise<boolean> {
  const shown = JSON.parse((await admin(owner, ['idp', 'show', slug, '--json'])).join('\n')) as { audience: string }[];
  return shown.some((p) => p.audience === audience);
}

/** `idp set <tenant> <audience> …` (an inline JWKS goes through a temporary --jwks-file). */
export async function setProvider(owner: postgres.Sql, slug: string, audience: ProviderAudience, s: ProviderSettings): Promise<void> {
  const argv = ['idp', 'set', slug, audience, '--issuer', s.issuer];
  if (s.displayName) argv.push('--name', s.displayName);
  if (s.clientId) argv.push('--client-id', s.clientId);
  if (s.allowCreate) argv.push('--allow-create');
  if (s.rolesClaim) argv.push('--roles-claim', s.rolesClaim);
  for (const [group, role] of Object.entries(s.roleMapping ?? {})) argv.push('--role', `${group}=${role}`);
  for (const id of s.allowedClientIds ?? []) argv.push('--allowed-client-id', id);
  if (s.subjectClaim) argv.push('--subject-claim', s.subjectClaim);
  const dir = s.jwks ? await mkdtemp(join(tmpdir(), 'attack-jwks-')) : undefined;
  try {
    if (dir) {
      await writeFile(join(dir, 'jwks.json'), JSON.stringify(s.jwks), { mode: 0o600 });
      argv.push('--jwks-file', join(dir, 'jwks.json'));
    }
    await admin(owner, argv);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** `idp remove <tenant> <audience>`. */
export async function removeProvider(owner: postgres.Sql, slug: string, audience: ProviderAudience): Promise<void> {
  await admin(owner, ['idp', 'remove', slug, audience]);
}

/** `clients create <tenant> --audience staff --confidential --jwt-bearer --json`: an assistant client and its secret. */
export async function createJwtBearerClient(owner: postgres.Sql, slug: string, name: string, redirectUri: string): Promise<{ clientId: string; secret: string }> {
  const out = JSON.parse((await admin(owner, ['clients', 'create', slug, '--name', name, '--audience', 'staff', '--redirect-uri', redirectUri,
    '--confidential', '--jwt-bearer', '--json'])).join('\n')) as { client_id: string; client_secret: string };
  return { clientId: out.client_id, secret: out.client_secret };
}
