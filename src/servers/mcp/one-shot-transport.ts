// A transport for exactly one JSON-RPC message and its answer, created per HTTP request and thrown
// away with it (stateless Streamable HTTP with JSON responses, MCP 2025-11-25 Transports).
//
// Why not the SDK's StreamableHTTPServerTransport: that class adapts Node's request/response to
// web-standard objects through @hono/node-server on every request, which costs more than express
// itself (measured). Our endpoint already did the transport's HTTP checks (method, Accept,
// Content-Type, body, protocol version, batches) in endpoint.ts, so what is left is handing one
// message to a fresh Server and taking its one response. Never shared between requests
// (CVE-2026-25536): one transport, one server, one message.
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export class OneShotTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  #resolve: ((m: JSONRPCMessage) => void) | undefined;
  #requestId: string | number | undefined;

  async start(): Promise<void> {}

  /** Hands the request to the server and resolves with its response. */
  exchange(message: JSONRPCMessage & { id: string | number }): Promise<JSONRPCMessage> {
    this.#requestId = message.id;
    const answered = new Promise<JSONRPCMessage>((resolve) => {
      this.#resolve = resolve;
    });
    this.onmessage?.(message);
    return answered;
  }

  /** Hands a notification to the server; there is nothing to wait for. */
  notify(message: JSONRPCMessage): void {
    this.onmessage?.(message);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    // Only the answer to our one request goes back. Server-initiated requests and notifications
    // would need an SSE stream, which this stateless JSON endpoint does not offer.
    if ('id' in message && message.id === this.#requestId && ('result' in message || 'error' in message)) {
      const resolve = this.#resolve;
      this.#resolve = undefined;
      resolve?.(message);
    }
  }

  async close(): Promise<void> {
    this.#resolve = undefined;
    this.onclose?.();
  }
}
