// npm run demo-idp: an upstream identity provider beside the service, for the demo. It is
// oidc-provider (the OpenID-certified implementation, a devDependency) on a loopback port with a
// few demo people, registered with one client for the acme tenant's customers. It also signs ID-JAGs
// (enterprise-managed authorization) for globex's staff at POST /demo/id-jag — a demo shortcut
// standing in for the IdP's RFC 8693 token exchange. It prints the `npm run admin` commands that
// wire it in. Start the service with ALLOW_PRIVATE_NETWORK_FETCH=true so it may reach loopback.
//   npm run demo-idp -- [--port 4400] [--public-url http://127.0.0.1:3000] [--internal-url http://127.0.0.1:3001]
// The browser test (test/authz/federation-browser.test.ts) starts the same provider.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import Provider from 'oidc-provider';

export interface DemoPerson { sub: string; email: string; email_verified: boolean; name: string; groups?: string[] }

export interface DemoIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  people: Map<string, DemoPerson>;
  /** Disabled upstream: the provider no longer finds the account, so it signs nobody in as them. */
  disabled: Set<string>;
  close(): Promise<void>;
}

export const DEMO_PEOPLE: DemoPerson[] = [
  { sub: 'alice', email: 'alice@acme.example', email_verified: true, name: 'Alice (shop account)' },
  { sub: 'newcomer', email: 'new.customer@acme.example', email_verified: true, name: 'New Customer' },
  { sub: 'jorge', email: 'returns@globex.example', email_verified: true, name: 'Jorge Returns', groups: ['returns'] },
];

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8').slice(0, 8192));
}

export async function startDemoIdp(options: { port?: number; publicUrl: string; tenant?: string; clientSecret?: string; people?: DemoPerson[] }): Promise<DemoIdp> {
  const tenant = options.tenant ?? 'acme';
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid: `demo-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' };
  const people = new Map((options.people ?? DEMO_PEOPLE).map((p) => [p.sub, { ...p }]));
  const disabled = new Set<string>();
  const clientId = `commerce-${tenant}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: [`${options.publicUrl}/t/${tenant}/federation/callback`],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256',
    }],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    conformIdTokenClaims: false, // the ID token carries email and groups (we never call userinfo)
    features: { devInteractions: { enabled: true } },
    // The dev login form's "login" is the account id (oidc-provider uses it as `sub`): alice, newcomer, jorge.
    async findAccount(_ctx: unknown, id: string) {
      const person = people.get(id);
      if (!person || disabled.has(person.sub)) return undefined;
      return { accountId: person.sub, claims: async () => ({ ...person }) };
    },
  });
  const handle = provider.callback();
  const idJagKey = await importJWK(signingJwk, 'ES256');
  server.on('request', (req, res) => {
    if (req.url === '/demo/id-jag' && req.method === 'POST') {
      void (async () => {
        const form = await readForm(req);
        const person = [...people.values()].find((p) => p.email === form.get('email'));
        if (!person || disabled.has(person.sub)) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
        const now = Math.floor(Date.now() / 1000);
        const jag = await new SignJWT({
          iss: issuer, sub: person.sub, email: person.email, aud: form.get('audience') ?? '', resource: form.get('resource'),
          client_id: form.get('client_id'), jti: randomBytes(12).toString('base64url'), iat: now, exp: now + 300,
          ...(form.get('scope') ? { scope: form.get('scope') } : {}),
        }).setProtectedHeader({ alg: 'ES256', kid: signingJwk.kid, typ: 'oauth-id-jag+jwt' }).sign(idJagKey);
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({
          issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', access_token: jag, token_type: 'N_A', expires_in: 300,
        }));
      })();
      return;
    }
    handle(req, res);
  });
  return {
    issuer, clientId, clientSecret, people, disabled,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    port: { type: 'string', default: '4400' }, 'public-url': { type: 'string', default: 'http://127.0.0.1:3000' }, 'internal-url': { type: 'string', default: 'http://127.0.0.1:3001' },
  } });
  const publicUrl = String(values['public-url']).replace(/\/+$/, '');
  const internalUrl = String(values['internal-url']).replace(/\/+$/, '');
  const idp = await startDemoIdp({ port: Number(values.port), publicUrl });
  const lines = [
    `demo upstream identity provider (oidc-provider) at ${idp.issuer}`,
    `people (dev login: type the login, any password): ${[...idp.people.values()].map((p) => `${p.sub} (${p.email})`).join(', ')}`,
    '',
    'Start the service so it may reach a loopback provider (development only):',
    '  ALLOW_PRIVATE_NETWORK_FETCH=true npm start',
    '',
    "1. acme's customers sign in with their shop accounts:",
    `  printf '%s\\n' '${idp.clientSecret}' | npm run admin -- idp set acme customer --issuer ${idp.issuer} --client-id ${idp.clientId} --client-secret-stdin --allow-create --name "Acme shop account"`,
    '',
    "2. globex's staff assistant gets a token with an ID-JAG (enterprise-managed authorization):",
    '  npm run admin -- clients create globex --name "Staff assistant" --audience staff --jwt-bearer   # note client_id and client_secret',
    `  npm run admin -- idp set globex enterprise --issuer ${idp.issuer} --jwks-uri ${idp.issuer}/jwks --allowed-client-id <client_id> --subject-claim email`,
    `  JAG=$(curl -s ${idp.issuer}/demo/id-jag -d client_id=<client_id> -d email=returns@globex.example -d scope=ops:read \\`,
    `        -d audience=${publicUrl}/t/globex -d resource=${internalUrl}/t/globex/internal/mcp | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `  curl -s -u <client_id>:<client_secret> ${publicUrl}/t/globex/token -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer -d assertion=$JAG`,
    '',
    'Ctrl-C stops it.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
