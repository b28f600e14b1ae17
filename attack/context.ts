// What every attack is given: the options, bounded HTTP, and lazily built fixtures (discovered
// endpoints, registered clients, token families) that are shared between rows, each built once.
//
// Leaving the deployment as it was found: a row that creates or changes something records it in
// `ctx.created`, and at the end of the run (also after a crash or Ctrl-C) attack/cleanup.ts removes
// exactly what was recorded, given owner access to the database (--database-url or --data-dir);
// without it the report lists what was left and how to remove it. The kinds are in
// attack/ledger.ts. Recorded without a row doing anything, when it goes through the suite's
// plumbing (the `Http` of the context: `callTool`, `Browser.post`, `http.json`):
//   - an order placed (place_order answered `created` with an order_number),
//   - a return started (start_return answered with a return_number),
//   - a pending action (any tool answer carrying an action_id the call did not pass in),
//   - a client registered (any POST answered 201 with a client_id: RFC 7591),
//   - an account signed in as or tried (a form post with email and password): throttle counters
//     and the person's MCP budget windows are reset.
// Recorded by the row itself, before it makes the change (the plumbing cannot know the before):
//   ctx.created.add({ kind: 'cart', tenant, login })   // before add_to_cart / place_order
//   ctx.created.add({ kind: 'price', tenant, sku })    // before change_price
//   ctx.created.add({ kind: 'sign-in', tenant, login })   // a sign-in not made through ctx.http
//   ctx.addresses.add(address)                           // a source address of its own (AddressedBrowser)
// Requests outside ctx.http (AddressedBrowser, rawRequest, a second Http) are not seen: the row
// records what they create. A row that creates anything else (a new tool, a federation fixture)
// records it with a kind of its own in attack/ledger.ts and a remover in attack/cleanup.ts, which
// runs the kinds in CLEANUP_ORDER (foreign keys). Records are deduplicated; recording something
// that was never created is harmless (its remover finds nothing).
import { randomBytes } from 'node:crypto';
import type { DatabaseProbe } from './database.js';
import { Http, type HttpEvent } from './http.js';
import { Ledger, tenantOfUrl } from './ledger.js';
import {
  discover, obtainTokens, refresh, registerClient, type AuthorizationRequest, type Credentials, type Discovery, type RegisteredClient, type Tokens,
} from './oauth.js';

export type Persona = 'customer' | 'otherCustomer' | 'otherTenantCustomer' | 'staff' | 'approver' | 'returns';

/** Personas that sign in to the internal endpoint (staff). */
export const STAFF_PERSONAS: readonly Persona[] = ['staff', 'approver', 'returns'];

export interface AttackOptions {
  /** Base URL of the public listener (authorization server, customer MCP endpoints). */
  target: string;
  /** Base URL of the internal listener (staff MCP endpoints, approval console), when reachable. */
  internal?: string;
  /** A second instance of the same deployment (F5). */
  target2?: string;
  tenant: string;
  otherTenant: string;
  credentials: Record<Persona, Credentials | undefined>;
  /** Owner or superuser URL of the deployment's database (local only): enables the R rows. */
  databaseUrl?: string;
  /** The application role's URL; derived from databaseUrl when absent. */
  appDatabaseUrl?: string;
  appRole: string;
  /** A pre-registered public client to use instead of dynamic registration, with its redirect URI. */
  client?: { clientId: string; redirectUri: string };
  timeoutMs: number;
  /** Give each attack its own loopback source address (loopback targets only; see http.ts). */
  rotateSourceAddress: boolean;
  /** The service's log file, when the tester can read it (L1 scans it for the secrets the suite received). */
  logFile?: string;
  /** Row ids to run (all when empty). */
  only: string[];
  /** Owner access for the clean-up at the end of the run (--database-url, or --data-dir's connection.json). */
  cleanupDatabase?: { url: string; source: string };
  /** Aborting it (Ctrl-C) stops the run after the current row; the clean-up still runs. */
  signal?: AbortSignal;
  log: (line: string) => void;
}

/** A registered client whose loopback redirect port never listens, plus an https URI for O3 variants. */
export interface SuiteClient extends RegisteredClient {
  redirectUri: string;
  httpsRedirectUri: string | undefined;
}

export const HTTPS_REDIRECT = 'https://attack-suite.invalid/callback';

export class AttackContext {
  readonly http: Http;
  readonly runId = randomBytes(4).toString('hex');
  readonly startedAt = new Date();
  /** Values rows hand to later rows (e.g. a return created in A5 that P1 reads). */
  readonly shared = new Map<string, unknown>();
  readonly #memo = new Map<string, Promise<unknown>>();
  database: DatabaseProbe | undefined;
  /** What this run created or changed on the deployment (see the top of this file). */
  readonly created = new Ledger();
  /** The source addresses the run's requests came from (the runner adds each it uses): the per-address counters to reset. */
  readonly addresses = new Set<string>();

  constructor(readonly options: AttackOptions) {
    this.http = new Http({ timeoutMs: options.timeoutMs });
    this.http.onEvent = (event) => this.#record(event);
  }

  #record(event: HttpEvent): void {
    const tenant = tenantOfUrl(event.url);
    if (!tenant) return;
    if (event.type === 'registered') return this.created.add({ kind: 'client', tenant, clientId: event.clientId });
    if (event.type === 'sign-in') return this.created.add({ kind: 'sign-in', tenant, login: event.login.trim().toLowerCase() });
    const s = event.structured;
    if (!s || event.isError) return;
    if (event.name === 'place_order' && s.status === 'created' && typeof s.order_number === 'string') this.created.add({ kind: 'order', tenant, number: s.order_number });
    if (event.name === 'start_return' && typeof s.return_number === 'string') this.created.add({ kind: 'return', tenant, number: s.return_number });
    if (typeof s.action_id === 'string' && event.args.action_id === undefined) this.created.add({ kind: 'pending action', tenant, id: s.action_id });
  }

  /** Builds a fixture once; a failure is remembered too, so every row that needs it fails the same way. */
  memo<T>(key: string, build: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = build();
      p.catch(() => {});
      this.#memo.set(key, p);
    }
    return p;
  }

  customerUrl(slug = this.options.tenant): string {
    return `${this.options.target}/t/${slug}/mcp`;
  }

  internalUrl(slug = this.options.tenant): string | undefined {
    return this.options.internal ? `${this.options.internal}/t/${slug}/internal/mcp` : undefined;
  }

  mcpUrl(kind: 'customer' | 'internal', slug = this.options.tenant): string {
    const url = kind === 'customer' ? this.customerUrl(slug) : this.internalUrl(slug);
    if (!url) throw new Error('no internal URL given (--internal)');
    return url;
  }

  endpoint(kind: 'customer' | 'internal', slug = this.options.tenant): Promise<Discovery> {
    return this.memo(`endpoint:${kind}:${slug}`, () => discover(this.http, this.mcpUrl(kind, slug)));
  }

  credentials(who: Persona): Credentials {
    const c = this.options.credentials[who];
    if (!c) throw new Error(`no credentials for ${who}`);
    return c;
  }

  /** The tenant a persona belongs to. */
  tenantOf(who: Persona): string {
    return who === 'otherTenantCustomer' ? this.options.otherTenant : this.options.tenant;
  }

  /** A dynamically registered public client of `slug`'s issuer (or the pre-registered one). */
  client(slug = this.options.tenant, name = 'main'): Promise<SuiteClient> {
    return this.memo(`client:${slug}:${name}`, async () => {
      if (this.options.client && slug === this.options.tenant && name === 'main') {
        return { client_id: this.options.client.clientId, redirect_uris: [this.options.client.redirectUri], redirectUri: this.options.client.redirectUri, httpsRedirectUri: undefined };
      }
      const { as } = await this.endpoint('customer', slug);
      const port = 20000 + Math.floor(Math.random() * 40000);
      const redirectUri = `http://127.0.0.1:${port}/callback`;
      const registered = await registerClient(this.http, as, { client_name: `commerce-mcp attack suite (${name})`, redirect_uris: [redirectUri, HTTPS_REDIRECT] });
      return { ...registered, redirectUri, httpsRedirectUri: HTTPS_REDIRECT };
    });
  }

  /** An authorization request for `kind` of `slug` through the suite's client. */
  async authorizationRequest(kind: 'customer' | 'internal', slug: string, scope: string | undefined, clientName = 'main'): Promise<AuthorizationRequest & { discovery: Discovery; client: SuiteClient }> {
    const discovery = await this.endpoint(kind, slug);
    const client = await this.client(slug, clientName);
    return { clientId: client.client_id, redirectUri: client.redirectUri, resource: discovery.resource, scope, discovery, client };
  }

  static readonly CUSTOMER_SCOPE = 'orders returns catalog cart';

  /** A new token family for a persona (never shared: rows that revoke or replay use these). */
  async freshTokens(who: Persona, options: { kind?: 'customer' | 'internal'; scope?: string } = {}): Promise<Tokens & { request: AuthorizationRequest & { discovery: Discovery; client: SuiteClient } }> {
    const kind = options.kind ?? (STAFF_PERSONAS.includes(who) ? 'internal' : 'customer');
    const scope = options.scope ?? (kind === 'customer' ? AttackContext.CUSTOMER_SCOPE : undefined);
    const request = await this.authorizationRequest(kind, this.tenantOf(who), scope);
    const tokens = await obtainTokens(this.http, request.discovery.as, request, this.credentials(who));
    return { ...tokens, request };
  }

  /** The persona's everyday token family, built once. */
  tokens(who: Persona): Promise<Tokens & { request: AuthorizationRequest & { discovery: Discovery; client: SuiteClient } }> {
    return this.memo(`tokens:${who}`, () => this.freshTokens(who));
  }

  async accessToken(who: Persona): Promise<string> {
    return (await this.tokens(who)).access_token;
  }

  /**
   * Before each row: every persona token family already in use is refreshed (rotation), so each row
   * gets a new access token and its own per-token rate-limit budget. Without this the suite spends
   * one token's budget across rows (120 calls a minute by default) and later rows meet 429s that
   * say nothing about the row itself. Runs between rows, never concurrently with a refresh.
   */
  async renewTokens(): Promise<void> {
    for (const [key, promise] of [...this.#memo]) {
      if (!key.startsWith('tokens:')) continue;
      const current = await (promise as ReturnType<AttackContext['tokens']>).catch(() => undefined);
      if (!current?.refresh_token) continue;
      const r = await refresh(this.http, current.request.discovery.as, current.request.clientId, current.refresh_token);
      if (r.status !== 200 || typeof r.body.access_token !== 'string') continue; // keep the old one; the row will say what fails
      this.#memo.set(key, Promise.resolve({ ...current, access_token: r.body.access_token as string, refresh_token: (r.body.refresh_token as string | undefined) ?? current.refresh_token }));
    }
  }
}
