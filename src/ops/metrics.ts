// Prometheus metrics (docs/DESIGN.md §5), served on the internal listener only. One registry per
// service instance (tests start several in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';
import type { Sql } from '../db/context.js';
import { transactionsInFlight } from '../db/context.js';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Histogram({
    name: 'commerce_http_request_duration_seconds',
    help: 'HTTP requests by endpoint, method and status',
    labelNames: ['listener', 'endpoint', 'method', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly toolCalls = new Histogram({
    name: 'commerce_mcp_tool_call_duration_seconds',
    help: 'MCP tool calls by capability set, tool and outcome',
    labelNames: ['endpoint', 'tool', 'outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
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

  /** Times every request; the endpoint label is the route pattern, never the raw URL. */
  middleware(listener: 'public' | 'internal'): RequestHandler {
    return (req, res, next) => {
      const stop = this.httpRequests.startTimer({ listener, method: req.method });
      res.on('finish', () => stop({ endpoint: endpointLabel(req.path), status: String(res.statusCode) }));
      next();
    };
  }

  handler(): RequestHandler {
    return async (_req, res) => {
      res.set('Content-Type', this.registry.contentType).send(await this.registry.metrics());
    };
  }
}

/** Collapses tenant slugs and ids so label cardinality stays bounded. */
export function endpointLabel(path: string): string {
  if (path.startsWith('/.well-known/')) return path.replace(/\/t\/[^/]+/, '/t/:tenant').replace(/^(\/\.well-known\/[^/]+).*\/t\/:tenant(.*)$/, '$1/t/:tenant$2');
  const m = /^\/t\/[^/]+(\/(?:internal\/mcp|internal\/ingest|mcp|authorize|token|register|revoke|introspect|login|consent|interaction)?)/.exec(path);
  if (m) return `/t/:tenant${m[1] ?? ''}`;
  if (path.startsWith('/console')) return '/console';
  return ['/healthz', '/readyz', '/metrics'].includes(path) ? path : 'other';
}
