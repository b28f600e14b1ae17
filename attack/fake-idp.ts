// A small OpenID Connect provider on a loopback port, for the attack suite and the tests: discovery,
// keys, an authorization endpoint that signs the configured person in at once, and a token
// endpoint whose ID token can be made wrong on purpose (issuer, audience, nonce, expired, another
// key) to show the relying party refuses it. Also signs ID-JAGs (enterprise-managed authorization)
// with its key or with a stranger's. Not a real provider: `npm run demo-idp` and the browser tests
// use oidc-provider for that.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export type IdTokenFault = 'none' | 'wrong-issuer' | 'wrong-audience' | 'wrong-nonce' | 'expired' | 'other-key';

export interface FakePerson { sub: string; email?: string; email_verified?: boolean; name?: string; groups?: string[] }

interface PendingCode { clientId: string; redirectUri: string; nonce: string; challenge: string; person: FakePerson }

export class FakeIdentityProvider {
  issuer = '';
  person: FakePerson = { sub: 'fake-user-1', email: 'fake@example.test', email_verified: true, name: 'Fake Person' };
  fault: IdTokenFault = 'none';
  /** When set, the authorization endpoint answers with this OAuth error (the person refused, or is disabled upstream). */
  refuse: string | null = null;
  readonly clients = new Map<string, string | null>(); // client_id → secret (null: a public client, PKCE only)
  #server?: Server;
  #key!: { privateKey: CryptoKey; jwk: JWK };
  #otherKey!: { privateKey: CryptoKey; jwk: JWK };
  #codes = new Map<string, PendingCode>();

  static async start(): Promise<FakeIdentityProvider> {
    const idp = new FakeIdentityProvider();
    const make = async (kid: string) => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
    };
    idp.#key = await make(`k-${randomBytes(4).toString('hex')}`);
    idp.#otherKey = await make(idp.#key.jwk.kid!); // the same kid: only the signature tells them apart
    idp.#server = createServer((req, res) => { void idp.#handle(req, res); });
    await new Promise<void>((resolve) => idp.#server!.listen(0, '127.0.0.1', resolve));
    idp.issuer = `http://127.0.0.1:${(idp.#server!.address() as AddressInfo).port}`;
    return idp;
  }

  /** The public keys, as an inline JWKS (enterprise IdP configured without a URI). */
  get jwks(): { keys: JWK[] } {
    return { keys: [this.#key.jwk] };
  }

  addClient(clientId: string, secret: string | null): void {
    this.clients.set(clientId, secret);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
    this.#server?.closeAllConnections();
  }

  /** Signs an ID-JAG (typ oauth-id-jag+jwt) with this IdP's key, or a stranger's when `forged`. */
  async signIdJag(claims: Record<string, unknown>, options: { forged?: boolean; typ?: string; lifetimeSeconds?: number } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const key = options.forged ? this.#otherKey : this.#key;
    return new SignJWT({ jti: randomBytes(12).toString('base64url'), iss: this.issuer, iat: now, exp: now + (options.lifetimeSeconds ?? 300), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid, typ: options.typ ?? 'oauth-id-jag+jwt' })
      .sign(key.privateKey);
  }

  async #idToken(p: PendingCode): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      ...p.person,
      iss: this.fault === 'wrong-issuer' ? `${this.issuer}/other` : this.issuer,
      aud: this.fault === 'wrong-audience' ? 'someone-else' : p.clientId,
      nonce: this.fault === 'wrong-nonce' ? 'not-the-nonce' : p.nonce,
      iat: this.fault === 'expired' ? now - 7200 : now,
      exp: this.fault === 'expired' ? now - 3600 : now + 300,
    };
    const key = this.fault === 'other-key' ? this.#otherKey : this.#key;
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  async #handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: this.issuer, authorization_endpoint: `${this.issuer}/authorize`, token_endpoint: `${this.issuer}/token`, jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: ['client_secret_basic'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (url.pathname === '/jwks') return json(200, this.jwks);
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      const redirect = new URL(q.get('redirect_uri') ?? '');
      if (!this.clients.has(q.get('client_id') ?? '')) return json(400, { error: 'invalid_client' });
      redirect.searchParams.set('state', q.get('state') ?? '');
      redirect.searchParams.set('iss', this.issuer);
      if (this.refuse) {
        redirect.searchParams.set('error', this.refuse);
      } else {
        const code = randomBytes(16).toString('base64url');
        this.#codes.set(code, { clientId: q.get('client_id')!, redirectUri: q.get('redirect_uri')!, nonce: q.get('nonce') ?? '', challenge: q.get('code_challenge') ?? '', person: { ...this.person } });
        redirect.searchParams.set('code', code);
      }
      return void res.writeHead(303, { location: redirect.toString() }).end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const auth = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
      const [id, secret] = auth ? Buffer.from(auth[1]!, 'base64').toString('utf8').split(':').map(decodeURIComponent) : [];
      const p = this.#codes.get(form.get('code') ?? '');
      const publicClient = p !== undefined && this.clients.get(p.clientId) === null && !auth;
      if (!publicClient && (!id || this.clients.get(id) !== secret)) return json(401, { error: 'invalid_client' });
      this.#codes.delete(form.get('code') ?? '');
      if (!p || (!publicClient && p.clientId !== id) || p.redirectUri !== form.get('redirect_uri')) return json(400, { error: 'invalid_grant' });
      const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (challenge !== p.challenge) return json(400, { error: 'invalid_grant' });
      return json(200, { access_token: `upstream-${randomBytes(16).toString('hex')}`, token_type: 'Bearer', expires_in: 300, id_token: await this.#idToken(p) });
    }
    json(404, { error: 'not_found' });
  }
}
