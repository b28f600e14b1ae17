// Prometheus metrics (docs/DESIGN.md §5), served on the internal listener only. One registry per
// service instance (tests start several in one process). L2: every label value comes from a closed
// set — route templates, the tools the capability sets define, a fixed list of methods and status
// codes, with "other" for the rest — so no request can add a time series (each one is kept for
// the life of the process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Request, RequestHandler } from 'express';
import type { Sql } from '../db/context.js';
import { transactionsInFlight } from '../db/context.js';
import { customerCapabilities } from '../servers/customer/capabilities.js';
import { internalCapabilities } from '../servers/internal/capabilities.js';

const OTHER = 'other';

/** Methods the service answers; anything else a client sends is "other". */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Status codes kept as they are; any other is counted by its class ("4xx"). */
const STATUSES = new Map([200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 429, 500, 502, 503, 504]
  .map((code) => [code, String(code)]));

/** Every tool of both capability sets: a tool name a client makes up is "other". */
const KNOWN_TOOLS = new Set([...customerCapabilities.toolsByName.keys(), ...internalCapabilities.toolsByName.keys()]);

export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : OTHER;
}

export function statusLabel(status: number): string {
  return STATUSES.get(status) ?? (status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : OTHER);
}

export function toolLabel(tool: string): string {
  return KNOWN_TOOLS.has(tool) ? tool : OTHER;
}

const ROUTE_LABELS = new Map<string, string>();

/**
 * The endpoint label: the template of the route that answered (`/t/:tenant/token`), never the raw
 * path; a request no route matched is "other". Templates are fixed in the code, so this map is too.
 */
export function endpointLabel(route: unknown): string {
  if (typeof route !== 'string') return OTHER;
  let label = ROUTE_LABELS.get(route);
  if (label === undefined) {
    label = route.replace(/:slug\b/g, ':tenant');
    ROUTE_LABELS.set(route, label);
  }
  return label;
}

/** The tool-call histogram with its labels closed: an unknown tool name is observed as "other". */
class ToolCallHistogram {
  constructor(readonly histogram: Histogram<'endpoint' | 'tool' | 'outcome'>) {}
  observe(labels: { endpoint: string; tool: string; outcome: string }, seconds: number): void {
    this.histogram.observe({ endpoint: labels.endpoint, tool: toolLabel(labels.tool), outcome: labels.outcome }, seconds);
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Histogram({
    name: 'commerce_http_request_duration_seconds',
    help: 'HTTP requests by endpoint, method and status',
    labelNames: ['listener', 'endpoint', 'method', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly toolCalls = new ToolCallHistogram(new Histogram({
    name: 'commerce_mcp_tool_call_duration_seconds',
    help: 'MCP tool calls by capability set, tool (unknown names: other) and outcome',
    labelNames: ['endpoint', 'tool', 'outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  }));
  readonly rateLimitRejections = new Counter({
    name: 'commerce_rate_limit_rejections_total',
    help: 'Requests refused by a rate-limit budget',
    labelNames: ['budget'] as const,
    registers: [this.registry],
  });

  constructor(sql: Sql) {
    collectDefaultMetrics({ register: this.registry });
    const poolMax = Number((sql as unknown as { options: { max: number } }).options.max);
    new Gauge({
      name: 'commerce_db_pool_in_use',
      help: 'Database transactions in flight (each holds one pooled connection)',
      registers: [this.registry],
      collect() {
        this.set(transactionsInFlight(sql));
      },
    });
    new Gauge({ name: 'commerce_db_pool_size', help: 'Database pool size', registers: [this.registry] }).set(poolMax);
    new Gauge({
      name: 'commerce_pending_approvals',
      help: 'Actions waiting for human approval, per tenant',
      labelNames: ['tenant'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        // The one reviewed SECURITY DEFINER function (R4 allowlist): counts only, no rows.
        const rows = await sql<{ tenant: string; pending: number }[]>`select tenant, pending from app.pending_approval_counts()`.catch(() => []);
        for (const r of rows) this.set({ tenant: r.tenant }, Number(r.pending));
      },
    });
  }

  /**
   * One answered request (src/http/request-log.ts times it); the labels are the route template
   * that answered, a known method and a fixed status.
   */
  observeRequest(listener: 'public' | 'internal', req: Request, status: number, seconds: number): void {
    this.httpRequests.observe({ listener, method: methodLabel(req.method), endpoint: endpointLabel(routeOf(req)), status: statusLabel(status) }, seconds);
  }

  handler(): RequestHandler {
    return async (_req, res) => {
      res.set('Content-Type', this.registry.contentType).send(await this.registry.metrics());
    };
  }
}

/** The path template of the route that answered (express sets `req.route` when one matched). */
function routeOf(req: Request): unknown {
  return (req.route as { path?: unknown } | undefined)?.path;
}
