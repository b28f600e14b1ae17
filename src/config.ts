// The one module that reads process.env. Parsed once with zod; bad values stop start-up with a
// message naming the variable.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';

interface Budget {
  points: number;
  durationSeconds: number;
}

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.url({ protocol: /^https?$/ });

const environment = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  INTERNAL_HOST: z.string().min(1).default('127.0.0.1'),
  // The internal (staff) MCP endpoint and the ops endpoints listen here. Empty means "on the public
  // listener" — convenient in development, not recommended in production.
  INTERNAL_PORT: port.default(3001),
  PUBLIC_URL: url.optional(),
  INTERNAL_URL: url.optional(),
  DATABASE_URL: z.string().startsWith('postgres').optional(),
  // The runtime (non-owner) connection. Derived from DATABASE_URL when absent.
  APP_DATABASE_URL: z.string().startsWith('postgres').optional(),
  APP_DATABASE_PASSWORD: z.string().min(8).default('commerce_app_dev_password'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  DATA_DIR: z.string().min(1).default('./data'),
  EMBEDDED_PG_PORT: port.default(54329),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: bool.default(true),
  // Development only: lets Client ID Metadata Documents and redirect checks reach loopback/private
  // hosts. Never honoured when NODE_ENV=production.
  ALLOW_PRIVATE_NETWORK_FETCH: bool.default(false),
  // L4: which proxies' X-Forwarded-For/-Host/-Proto to believe (express "trust proxy"), so per-IP
  // limits on sign-in and tokens count the client's address, not the proxy's. Default: nobody.
  // Comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal), or a hop count.
  TRUST_PROXY: z.string().default('none').transform((value, ctx) => {
    const parsed = parseTrustProxy(value);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
  // Where rate-limit budgets are counted: 'postgres' is shared by every instance (the truth);
  // 'memory' is per process, for a single instance only; 'off' counts nothing on MCP calls and is
  // refused in production (it exists so `npm run bench` can show what the limits cost).
  RATE_LIMIT_STORE: z.enum(['postgres', 'memory', 'off']).default('postgres'),
  // Default MCP budgets per minute (writes count 5); a tenant may override them in its settings.
  // Client and tenant budgets are counted apart for the customer and the staff endpoint.
  RATE_LIMIT_TOKEN_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  // The person (customer or staff member) across all their tokens and clients (A10) ...
  RATE_LIMIT_SUBJECT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(500),
  // ... and never more than this share of their client's or tenant's budget (A9).
  RATE_LIMIT_SUBJECT_SHARE_PERCENT: z.coerce.number().int().min(1).max(100).default(25),
  RATE_LIMIT_TENANT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(6000),
  RATE_LIMIT_CLIENT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(2000),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(600),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(90 * 24 * 3600).default(30 * 24 * 3600),
  // RFC 7591 dynamic client registration at /t/<slug>/register (policy: public clients, https or
  // loopback redirect URIs, rate-limited, unused registrations expire). Off removes the endpoint.
  OAUTH_DYNAMIC_REGISTRATION: bool.default(true),
  // The key of sign-in device cookies (O13). Set the same value on every instance of a deployment;
  // unset, each DATA_DIR keeps its own random key (DATA_DIR/sign-in-device-key).
  SIGN_IN_DEVICE_KEY: z.string().min(32).max(512).optional(),
  // The key that encrypts upstream identity providers' client secrets at rest (AES-256-GCM). Set the
  // same value on every instance (and for `npm run admin`); unset, DATA_DIR/federation-secret-key.
  FEDERATION_SECRET_KEY: z.string().min(32).max(512).optional(),
  // The key that seals carrier and webhook secrets in the database (docs/WEBHOOKS.md). Set the same
  // value on every instance and for the admin command line; unset, DATA_DIR/webhook-secrets-key.
  WEBHOOK_SECRETS_KEY: z.string().min(32).max(512).optional(),
  // The delivery worker of outgoing webhooks: on/off, how often it looks at the outbox, the first
  // retry delay (doubled per attempt, capped at an hour) and the attempts before a delivery is dead.
  WEBHOOK_WORKER: bool.default(true),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  // Carrier events: how far a signed timestamp may be from our clock.
  CARRIER_EVENT_TOLERANCE_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  // Bulk ingestion (POST /t/<slug>/internal/ingest, docs/INGESTION.md): the largest body and line
  // accepted, records per transaction, and how long the internal listener waits for a whole request
  // (an upload of 200 MB takes minutes; the public listener keeps its 30 s).
  INGEST_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 ** 3).default(200 * 1024 * 1024),
  INGEST_MAX_LINE_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
  INGEST_CHUNK_RECORDS: z.coerce.number().int().min(1).max(5000).default(500),
  INGEST_REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(30).max(24 * 3600).default(1800),
  // The key of MCP requestState values (2026-07-28 in-band confirmations). Same on every instance;
  // unset, each DATA_DIR keeps its own random key (DATA_DIR/mrtr-state-key).
  MRTR_STATE_KEY: z.string().min(32).max(512).optional(),
});

export type Environment = z.infer<typeof environment>;

/**
 * Whom express believes about the client (its "trust proxy" setting): `false` is nobody (the socket's
 * peer is the client), a number is that many proxies in front, a list is the proxies' own addresses.
 */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function validProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  // A /0 is every address: the same as trusting everyone.
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** L4: parses TRUST_PROXY; a string is the reason it is refused. Trusting every sender is never accepted. */
export function parseTrustProxy(value: string): TrustProxy | string {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'none' || v === 'false') return false;
  if (v === 'true' || v === '*' || v === 'all') return 'trusting every sender would let any client choose its own address; list the proxies instead';
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops === 0) return false;
    return hops <= 10 ? hops : 'a hop count is at most 10';
  }
  const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
  const bad = entries.filter((e) => !validProxyEntry(e));
  if (bad.length) return `not an address, CIDR or loopback/linklocal/uniquelocal: ${bad.join(', ')}`;
  return entries;
}

export interface Config {
  env: Environment['NODE_ENV'];
  publicListener: { host: string; port: number };
  internalListener: { host: string; port: number };
  publicUrl: string;
  internalUrl: string;
  database: {
    ownerUrl: string | undefined; // undefined: start the embedded server
    appUrl: string | undefined;
    appPassword: string;
    poolMax: number;
    embeddedPort: number;
  };
  dataDir: string;
  logLevel: Environment['LOG_LEVEL'];
  seedDemo: boolean;
  allowPrivateNetworkFetch: boolean;
  trustProxy: TrustProxy;
  rateLimitStore: 'postgres' | 'memory' | 'off';
  rateLimitBudgets: { token: Budget; subject: Budget; client: Budget; tenant: Budget };
  rateLimitSubjectSharePercent: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  dynamicRegistration: boolean;
  signInDeviceKey: string | undefined;
  federationSecretKey: string | undefined;
  webhooks: {
    secretsKey: string | undefined;
    worker: boolean;
    pollIntervalMs: number;
    retryBaseMs: number;
    maxAttempts: number;
    carrierToleranceSeconds: number;
  };
  ingest: { maxBodyBytes: number; maxLineBytes: number; chunkRecords: number; requestTimeoutMs: number };
  mrtrStateKey: string | undefined;
}

export class ConfigError extends Error {}

function stripSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

/** Parses the given environment (process.env by default) into the typed configuration. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environment.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.RATE_LIMIT_STORE === 'off' && e.NODE_ENV === 'production') {
    throw new ConfigError('invalid configuration:\n  RATE_LIMIT_STORE: "off" is for benchmarks and is refused when NODE_ENV=production');
  }
  const displayHost = (h: string) => (h === '0.0.0.0' || h === '::' ? 'localhost' : h);
  return {
    env: e.NODE_ENV,
    publicListener: { host: e.HOST, port: e.PORT },
    internalListener: { host: e.INTERNAL_HOST, port: e.INTERNAL_PORT },
    publicUrl: stripSlash(e.PUBLIC_URL ?? `http://${displayHost(e.HOST)}:${e.PORT}`),
    internalUrl: stripSlash(e.INTERNAL_URL ?? `http://${displayHost(e.INTERNAL_HOST)}:${e.INTERNAL_PORT}`),
    database: {
      ownerUrl: e.DATABASE_URL,
      appUrl: e.APP_DATABASE_URL,
      appPassword: e.APP_DATABASE_PASSWORD,
      poolMax: e.DATABASE_POOL_MAX,
      embeddedPort: e.EMBEDDED_PG_PORT,
    },
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO,
    allowPrivateNetworkFetch: e.ALLOW_PRIVATE_NETWORK_FETCH && e.NODE_ENV !== 'production',
    trustProxy: e.TRUST_PROXY,
    rateLimitStore: e.RATE_LIMIT_STORE,
    rateLimitBudgets: {
      token: { points: e.RATE_LIMIT_TOKEN_PER_MINUTE, durationSeconds: 60 },
      subject: { points: e.RATE_LIMIT_SUBJECT_PER_MINUTE, durationSeconds: 60 },
      client: { points: e.RATE_LIMIT_CLIENT_PER_MINUTE, durationSeconds: 60 },
      tenant: { points: e.RATE_LIMIT_TENANT_PER_MINUTE, durationSeconds: 60 },
    },
    rateLimitSubjectSharePercent: e.RATE_LIMIT_SUBJECT_SHARE_PERCENT,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
    dynamicRegistration: e.OAUTH_DYNAMIC_REGISTRATION,
    signInDeviceKey: e.SIGN_IN_DEVICE_KEY,
    federationSecretKey: e.FEDERATION_SECRET_KEY,
    webhooks: {
      secretsKey: e.WEBHOOK_SECRETS_KEY,
      worker: e.WEBHOOK_WORKER,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      carrierToleranceSeconds: e.CARRIER_EVENT_TOLERANCE_SECONDS,
    },
    ingest: {
      maxBodyBytes: e.INGEST_MAX_BODY_BYTES, maxLineBytes: e.INGEST_MAX_LINE_BYTES, chunkRecords: e.INGEST_CHUNK_RECORDS,
      requestTimeoutMs: e.INGEST_REQUEST_TIMEOUT_SECONDS * 1000,
    },
    mrtrStateKey: e.MRTR_STATE_KEY,
  };
}
