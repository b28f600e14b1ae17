// Benchmark child: the baseline, a bare MCP SDK v2 server as its documentation teaches it:
// `createMcpHandler` with a server factory (a new McpServer per request; legacy 2025-era traffic
// through its stateless fallback), `toNodeHandler` from @modelcontextprotocol/node, SDK defaults,
// one static tool, no auth, no database. Serves both revisions at one URL.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool('get_order_status', {
    description: 'Static order status',
    inputSchema: z.object({ order_number: z.string() }),
  }, async ({ order_number }) => ({ content: [{ type: 'text', text: `Order ${order_number} is in transit.` }] }));
  return server;
}, { legacy: 'stateless' });

const listener = createServer(toNodeHandler(handler)).listen(0, '127.0.0.1', () => {
  const port = (listener.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/mcp` })}\n`);
});
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
