// Benchmark child: the old baseline, a bare MCP SDK v1 server (the devDependency @modelcontextprotocol/sdk
// 1.x, for comparison only) as its documentation teaches stateless mode:
// express + express.json, a new McpServer and StreamableHTTPServerTransport per request, SDK
// defaults (its own Ajv per server, SSE responses), one static tool, no auth, no database.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const app = express();
app.use(express.json());
app.post('/mcp', async (req, res) => {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool('get_order_status', {
    description: 'Static order status',
    inputSchema: { order_number: z.string() },
  }, async ({ order_number }) => ({ content: [{ type: 'text', text: `Order ${order_number} is in transit.` }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
const listener = app.listen(0, '127.0.0.1', () => {
  const port = (listener.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/mcp` })}\n`);
});
process.on('SIGTERM', () => listener.close(() => process.exit(0)));
