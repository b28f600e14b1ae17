// `npm start`: the service on the embedded database (or DATABASE_URL), demo data on first start,
// then a banner with the URLs and demo logins. SIGINT/SIGTERM drain and stop cleanly.
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { customerEndpointPath, internalEndpointPath, issuerFor } from './authz/resources.js';
import { DEMO_LOGINS } from './seed/demo.js';
import { startService } from './service.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const log = createLogger(config);
const started = Date.now();
const service = await startService(config, log).catch((error) => {
  log.fatal({ err: error }, 'start-up failed');
  process.exit(1);
});

const tenants = await service.services.tenants.list();
const lines = [
  '',
  `commerce-mcp is up (${Date.now() - started} ms) — ${service.db.embedded ? 'embedded PostgreSQL in ' + service.db.embedded.databaseDir : 'external PostgreSQL'}`,
  '',
  `  health           ${service.publicUrl}/healthz   ready: ${service.publicUrl}/readyz`,
  `  metrics          ${service.internalServer ? `${service.internalUrl}/metrics` : 'not served: public and internal share one listener'}`,
  ...tenants.flatMap((t) => [
    `  tenant ${t.slug} (${t.name})`,
    `    customer MCP   ${service.publicUrl}${customerEndpointPath(t.slug)}`,
    `    internal MCP   ${service.internalUrl}${internalEndpointPath(t.slug)}`,
    `    issuer         ${issuerFor(service.services.config, t.slug)}`,
    `    approvals      ${service.internalUrl}/console/t/${t.slug}`,
    `    settings       ${service.internalUrl}/console/t/${t.slug}/settings   (tenant admin)`,
  ]),
  '',
  '  demo logins (tenant | role | login | password | approver: may approve what others asked for)',
  ...DEMO_LOGINS.map((l) => `    ${l.tenant.padEnd(8)} ${l.role.padEnd(22)} ${l.login.padEnd(30)} ${l.password.padEnd(24)}${l.mayApprove ? ' approver' : ''}`.trimEnd()),
  '',
];
process.stdout.write(lines.join('\n') + '\n');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining and stopping');
    service.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  });
}
