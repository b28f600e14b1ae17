// Clients built on the v1 SDK (mcp-remote, the LangChain MCP adapters and many others still are) keep
// working: the v1 client (a devDependency kept for this and the benchmark) speaks 2025-11-25 with
// `initialize`, and gets the same tools and answers as before the move to the v2 SDK.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { customerCapabilities } from '../../src/servers/customer/capabilities.js';
import { startTestService } from '../support/service.js';
import { customerToken, customerUrl } from './helpers.js';

test('a v1 SDK client: initialize on 2025-11-25, lists, a tool call, a resource, a prompt', async () => {
  const s = await startTestService();
  const { token } = await customerToken(s, 'acme', 'alice@acme.example');
  const client = new Client({ name: 'v1-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(customerUrl(s, 'acme')), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  assert.equal(client.getServerVersion()?.name, customerCapabilities.serverInfo.name);
  const tools = await client.listTools();
  assert.deepEqual(tools.tools.map((t) => t.name), customerCapabilities.toolList.tools.map((t) => t.name));
  assert.equal((tools as Record<string, unknown>).resultType, undefined, 'no 2026-07-28 fields on the legacy leg');
  const orders = await client.callTool({ name: 'list_orders', arguments: { limit: 2 } });
  assert.equal(orders.isError, undefined, JSON.stringify(orders));
  assert.ok(Array.isArray((orders.structuredContent as { orders: unknown[] }).orders));
  const policy = await client.readResource({ uri: 'policy://returns' });
  assert.ok(policy.contents.length === 1);
  const prompt = await client.getPrompt({ name: 'where_is_my_order', arguments: {} });
  assert.ok(prompt.messages.length > 0);
  await client.close();
});
