// Starts the whole service: database (embedded or external), demo data on first start, the public
// and internal listeners; and stops it gracefully (drain requests, close the pool, stop PostgreSQL).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import type { Config } from './config.js';
import { announceConnection } from './db/connection-file.js';
import { openDatabase, openWebhookPool, type Database } from './db/database.js';
import type { Express } from 'express';
import { createApps } from './http/app.js';
import { createLogger, type Logger } from './log.js';
import { seedDemo } from './seed/demo.js';
import { Metrics } from './ops/metrics.js';
import { RateLimits } from './ratelimit/limits.js';
import type { Services } from './services.js';
import { TenantDirectory } from './tenants/directory.js';
import { WebhookWorker } from './webhooks/worker.js';
import { AuditSealer, openSealerPool } from './audit/sealer.js';

export interface RunningService {
  config: Config;
  services: Services;
  db: Database;
  /** The delivery worker of outgoing webhooks (undefined when WEBHOOK_WORKER=false). */
  webhookWorker: WebhookWorker | undefined;
  publicServer: Server;
  internalServer: Server | undefined;
  /** The base URLs actually bound (ports resolved when 0 was asked). */
  publicUrl: string;
  internalUrl: string;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function dispatch(app: Express | undefined, req: IncomingMessage, res: ServerResponse) {
  if (app) return app(req, res);
  res.writeHead(503, { 'Retry-After': '1' }).end();
}

/** F3: slow clients are cut off (checked every second: connectionsCheckingInterval); idle keep-alive sockets do not hold a drain back. */
function hardened(server: Server, requestTimeoutMs = 30_000): Server {
  server.headersTimeout = 10_000;
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  return server;
}

function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 10_000).unref();
  });
}

export async function startService(config: Config, log: Logger = createLogger(config)): Promise<RunningService> {
  const db = await openDatabase(config, log);
  // While the service runs, the admin commands use its embedded server (src/db/connection-file.ts).
  const announced = db.embedded
    ? announceConnection(config.dataDir, { ownerUrl: db.ownerUrl, port: config.database.embeddedPort, databaseDir: db.embedded.databaseDir })
    : undefined;
  const closeDatabase = async () => {
    announced?.remove();
    await db.close();
  };
  try {
    if (config.seedDemo) {
      const owner = postgres(db.ownerUrl, { max: 1, onnotice: () => {} });
      try {
        const summary = await seedDemo(owner);
        if (summary.seeded) log.info({ summary }, 'demo data seeded');
      } finally {
        await owner.end();
      }
    }
  } catch (error) {
    await closeDatabase();
    throw error;
  }
  // Port 0 asks the OS for a port each time, so two listeners asking for it are two listeners.
  const sameListener = config.internalListener.port !== 0 &&
    config.internalListener.port === config.publicListener.port && config.internalListener.host === config.publicListener.host;
  // Listen first with a delegating handler, so that port 0 (tests) resolves before any URL is derived.
  let handlers: { public?: Express; internal?: Express } = {};
  const publicServer = hardened(createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => dispatch(handlers.public, req, res)));
  // The internal listener takes uploads (src/ingest): a whole request may take longer there.
  const internalServer = sameListener ? undefined : hardened(createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => dispatch(handlers.internal, req, res)),
    Math.max(30_000, config.ingest.requestTimeoutMs));
  try {
    const port = await listen(publicServer, config.publicListener.host, config.publicListener.port);
    if (config.publicListener.port === 0) config = { ...config, publicUrl: config.publicUrl.replace(/:0$/, `:${port}`) };
    if (internalServer) {
      const iport = await listen(internalServer, config.internalListener.host, config.internalListener.port);
      if (config.internalListener.port === 0) config = { ...config, internalUrl: config.internalUrl.replace(/:0$/, `:${iport}`) };
    } else config = { ...config, internalUrl: config.publicUrl };
  } catch (error) {
    await close(publicServer);
    await closeDatabase();
    throw error;
  }
  const services: Services = {
    config, sql: db.sql, log, tenants: new TenantDirectory(db.sql), metrics: new Metrics(db.sql),
    rateLimits: new RateLimits(db.rateLimitSql, { store: config.rateLimitStore, budgets: config.rateLimitBudgets, subjectSharePercent: config.rateLimitSubjectSharePercent }),
  };
  const apps = createApps(services, { sameListener });
  handlers = { public: apps.publicApp, internal: apps.internalApp };
  const publicUrl = config.publicUrl;
  const internalUrl = config.internalUrl;
  // Outgoing webhooks: every instance runs a worker; the outbox's row locks keep them apart.
  const webhookSql = config.webhooks.worker ? openWebhookPool(db.appUrl) : undefined;
  const webhookWorker = webhookSql ? new WebhookWorker({ sql: webhookSql, log, config, internalUrl }) : undefined;
  webhookWorker?.start();
  // The audit sealer: every instance runs one; app.audit_seal's advisory lock lets one seal at a time.
  const sealerSql = openSealerPool(db.appUrl);
  const auditSealer = new AuditSealer(sealerSql, log);
  auditSealer.start();
  let closing: Promise<void> | undefined;
  return {
    config, services, db, publicServer, internalServer, publicUrl, internalUrl, webhookWorker,
    close() {
      closing ??= (async () => {
        await Promise.all([close(publicServer), close(internalServer), webhookWorker?.stop()]);
        await webhookSql?.end({ timeout: 2 });
        await auditSealer.stop();
        await sealerSql.end({ timeout: 2 });
        // The budget slices this instance still holds go back to their windows (best effort: a
        // store that cannot answer now keeps them until the window ends).
        await services.rateLimits.release().catch((error: unknown) => log.warn({ err: error }, 'budget slices not given back'));
        await closeDatabase();
      })();
      return closing;
    },
  };
}
