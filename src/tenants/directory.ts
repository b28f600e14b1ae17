// Tenant lookup by slug (the tenants table is a public directory; see migrations/005_policies.sql).
// Cached briefly per process: a disabled tenant stops answering within TENANT_CACHE_MS.
import type { Sql } from '../db/context.js';
import { TENANT_SLUG } from '../authz/resources.js';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
}

const TENANT_CACHE_MS = 5_000;

export class TenantDirectory {
  readonly #cache = new Map<string, { tenant: Tenant | null; until: number }>();
  constructor(private readonly sql: Sql) {}

  async bySlug(slug: string): Promise<Tenant | null> {
    if (!TENANT_SLUG.test(slug)) return null;
    const now = Date.now();
    const hit = this.#cache.get(slug);
    if (hit && hit.until > now) return hit.tenant;
    const [row] = await this.sql<Tenant[]>`select id, slug, name from tenants where slug = ${slug} and disabled_at is null`;
    const tenant = row ?? null;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(slug, { tenant, until: now + TENANT_CACHE_MS });
    return tenant;
  }

  async list(): Promise<Tenant[]> {
    return this.sql<Tenant[]>`select id, slug, name from tenants where disabled_at is null order by slug`;
  }
}
