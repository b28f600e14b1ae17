// Issue 12 "done when", with the real command line: a tenant created with the admin command is
// filled from an NDJSON file (examples/shop.ndjson); import of its export changes nothing; a file
// with a bad line exits 1 with the report; the customer the file created is given a password by
// the admin command, signs in through the authorization server (login form, consent, code, PKCE),
// and sees exactly their orders on the customer MCP endpoint.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { commandEnvironment, runCommand, runPipeline, type Environment } from '../cli/support.js';
import { authorizeUrl, Browser, obtainCode, pkce, REDIRECT, tokenRequest } from '../authz/flow.js';
import { connect } from '../servers/helpers.js';
import { GENEROUS_BUDGETS, startTestService, type TestService } from '../support/service.js';
import { admin } from './helpers.js';

let svc: TestService;
let environment: Environment;
const CLI = 'node --import tsx src/cli/admin.ts';
const PASSWORD = 'green-tea-every-morning';

before(async () => {
  svc = await startTestService(GENEROUS_BUDGETS);
  environment = await commandEnvironment();
  environment.env.DATABASE_URL = svc.database.ownerUrl;
});
after(() => environment.remove());

test('a new tenant filled from examples/shop.ndjson by the admin CLI; its uploaded customer signs in and sees their orders', async () => {
  const created = await runCommand(environment.env, 'admin', 'tenants', 'create', 'harbour', 'Harbour Tea');
  assert.equal(created.code, 0, created.stderr);

  const imported = await runCommand(environment.env, 'admin', 'import', 'harbour', 'examples/shop.ndjson');
  assert.equal(imported.code, 0, imported.stderr + imported.stdout);
  // 31 new records; the 4 supplier costs set a column of products just made (an update).
  assert.match(imported.stdout, /^accepted\t31$/m);
  assert.match(imported.stdout, /^updated\t4$/m);
  assert.match(imported.stdout, /^rejected\t0$/m);

  // import(export) is a no-op, through a pipe.
  const roundTrip = await runPipeline(environment.env, `${CLI} export harbour | ${CLI} import harbour - --json`);
  assert.equal(roundTrip.code, 0, roundTrip.stderr);
  const report = JSON.parse(roundTrip.stdout) as { lines: number; unchanged: number; accepted: number; updated: number };
  assert.deepEqual([report.accepted, report.updated, report.unchanged], [0, 0, report.lines]);
  assert.equal(report.lines, 35);

  // One bad line: exit status 1, the line and its reason; the good line is kept.
  const bad = join(environment.dataDir, 'bad.ndjson');
  await writeFile(bad, '{"kind":"customer","external_id":"c-503","email":"ana@example.org","name":"Ana"}\n{"kind":"order","external_id":"o-x","number":"HB-X","customer":"c-999","status":"paid","currency":"EUR","lines":[{"line_no":1,"product":"p-1001","quantity":1,"unit_price_cents":1}]}\n');
  const partial = await runCommand(environment.env, 'admin', 'import', 'harbour', bad);
  assert.equal(partial.code, 1);
  assert.match(partial.stdout, /^line 2 \(order o-x\): customer: unknown customer "c-999"$/m);
  assert.match(partial.stdout, /^accepted\t1$/m);

  const password = await runPipeline(environment.env, `printf '%s\\n' '${PASSWORD}' | ${CLI} customers password harbour noor.jansen@example.org`);
  assert.equal(password.code, 0, password.stderr);

  // The customer endpoint is on from phase 3 (docs/DESIGN.md §1); the shop's admin would set it in the settings.
  await svc.database.owner`update tenant_settings set phase = 3 where tenant_id = (select id from tenants where slug = 'harbour')`;
  const client = await admin(svc, 'clients', 'create', 'harbour', '--name', 'Harbour app', '--audience', 'customer', '--redirect-uri', REDIRECT);
  const clientId = client.out.find((l) => l.startsWith('client_id\t'))!.split('\t')[1]!;
  const issuer = `${svc.publicUrl}/t/harbour`;
  const resource = resourceFor(svc.config, 'harbour', 'customer');
  const { verifier, challenge } = pkce();
  const back = await obtainCode(new Browser(svc.publicUrl), authorizeUrl(issuer, { client_id: clientId, code_challenge: challenge, resource, scope: 'orders' }),
    { login: 'noor.jansen@example.org', password: PASSWORD });
  const code = back.searchParams.get('code');
  assert.ok(code, `redirected to ${back}`);
  const tokens = await tokenRequest(issuer, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));

  const mcp = await connect(resource, tokens.body.access_token as string);
  const listed = await mcp.callTool({ name: 'list_orders', arguments: {} });
  const orders = (listed.structuredContent as { orders: { order_number: string; status: string; late: boolean; item_count: number }[] }).orders;
  assert.deepEqual(orders.map((o) => [o.order_number, o.status, o.item_count]), [['HB-9002', 'shipped', 1], ['HB-9001', 'delivered', 3]]);
  assert.equal(orders[0]!.late, true, 'the uploaded shipment carries a late cause');
  const detail = await mcp.callTool({ name: 'get_order', arguments: { order_number: 'HB-9002' } });
  assert.match(JSON.stringify(detail.structuredContent), /carrier_capacity|over capacity/);
  await mcp.close();
});
