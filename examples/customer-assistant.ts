// A customer's assistant connecting to the customer MCP endpoint with the SDK's (v2) OAuth support,
// on MCP 2026-07-28 (version negotiation 'auto': server/discover first, 2025-11-25 fallback):
// discovery from the endpoint URL (401 → protected resource metadata → authorization server
// metadata), dynamic registration, authorization code + PKCE through the browser with a loopback
// redirect, then tool calls with the bearer token the SDK attaches.
//
//   npx tsx examples/customer-assistant.ts http://127.0.0.1:3000/t/acme/mcp
//
// Sign in as a demo customer (README: alice@acme.example / demo-customer-pass-2026). The example
// tracks the most recent order and asks for a return summary (it never confirms the return itself).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientMetadata, type OAuthClientProvider,
  type StoredOAuthClientInformation, type StoredOAuthTokens,
} from '@modelcontextprotocol/client';

const endpoint = new URL(process.argv[2] ?? 'http://127.0.0.1:3000/t/acme/mcp');

/** Waits on a loopback port for the authorization server to redirect back with ?code=&iss= (RFC 8252 §7.3). */
async function loopbackRedirect(): Promise<{ url: string; code: Promise<URLSearchParams>; close(): void }> {
  let deliver!: (params: URLSearchParams) => void;
  let fail!: (e: Error) => void;
  const code = new Promise<URLSearchParams>((resolve, reject) => { deliver = resolve; fail = reject; });
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/callback') return void res.writeHead(404).end();
    const c = u.searchParams.get('code');
    const error = u.searchParams.get('error');
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(c ? 'Signed in. You can close this tab.' : `Sign-in failed: ${error}`);
    if (c) deliver(u.searchParams); // code and iss (RFC 9207: the SDK checks iss before redeeming)
    else fail(new Error(`authorization failed: ${error}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/callback`, code, close: () => server.close() };
}

/** Keeps registration, PKCE verifier and tokens in memory: enough for one run of the example. */
class InMemoryOAuthProvider implements OAuthClientProvider {
  #client: StoredOAuthClientInformation | undefined;
  #tokens: StoredOAuthTokens | undefined;
  #verifier = '';
  readonly #state = randomBytes(16).toString('base64url');
  constructor(readonly redirect: string) {}
  get redirectUrl() { return this.redirect; }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'commerce-mcp example assistant',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'orders returns catalog cart',
    };
  }
  state() { return this.#state; }
  clientInformation() { return this.#client; }
  saveClientInformation(info: StoredOAuthClientInformation) { this.#client = info; }
  tokens() { return this.#tokens; }
  saveTokens(tokens: StoredOAuthTokens) { this.#tokens = tokens; }
  redirectToAuthorization(url: URL) {
    console.log(`\nOpen this URL in a browser and sign in:\n\n  ${url.toString()}\n`);
  }
  saveCodeVerifier(v: string) { this.#verifier = v; }
  codeVerifier() { return this.#verifier; }
  // Kept across the redirect like the verifier, so the SDK can check on the callback leg that the
  // code came from the authorization server it discovered (RFC 9207 issuer binding).
  #discovery: DiscoveryState | undefined;
  saveDiscoveryState(state: DiscoveryState) { this.#discovery = state; }
  discoveryState() { return this.#discovery; }
}
type DiscoveryState = Parameters<NonNullable<OAuthClientProvider['saveDiscoveryState']>>[0];

async function main() {
  const redirect = await loopbackRedirect();
  const provider = new InMemoryOAuthProvider(redirect.url);
  const newTransport = () => new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
  let client = new Client({ name: 'commerce-mcp-example', version: '0.1.0' }, { versionNegotiation: { mode: 'auto' } });
  try {
    await client.connect(newTransport());
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    const transport = newTransport();
    await transport.finishAuth(await redirect.code);
    client = new Client({ name: 'commerce-mcp-example', version: '0.1.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(newTransport());
  } finally {
    redirect.close();
  }

  const tools = await client.listTools();
  console.log('tools:', tools.tools.map((t) => t.name).join(', '));
  const orders = await client.callTool({ name: 'list_orders', arguments: { limit: 5 } });
  const list = (orders.structuredContent as { orders: { order_number: string; status: string; late: boolean }[] }).orders;
  console.table(list);
  const open = list.find((o) => ['shipped', 'picking', 'paid'].includes(o.status)) ?? list[0];
  if (open) {
    const detail = await client.callTool({ name: 'get_order', arguments: { order_number: open.order_number } });
    console.log(`\nWhere is ${open.order_number}?`, JSON.stringify(detail.structuredContent, null, 2));
  }
  const delivered = list.find((o) => o.status === 'delivered');
  if (delivered) {
    const eligibility = await client.callTool({ name: 'check_return_eligibility', arguments: { order_number: delivered.order_number } });
    console.log(`\nReturn eligibility of ${delivered.order_number}:`, JSON.stringify(eligibility.structuredContent, null, 2));
    const line = (eligibility.structuredContent as { lines: { line_no: number; eligible: boolean }[] }).lines.find((l) => l.eligible);
    if (line) {
      // First step only: the summary and a confirmation_token. A real assistant shows the summary and
      // calls again with the token only after the customer says yes.
      const step1 = await client.callTool({
        name: 'start_return',
        arguments: {
          order_number: delivered.order_number, lines: [{ line_no: line.line_no, quantity: 1 }],
          reason: 'Does not fit', idempotency_key: `example-${randomBytes(6).toString('hex')}`,
        },
      });
      console.log('\nstart_return (needs confirmation):', JSON.stringify(step1.structuredContent, null, 2));
    }
  }
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
