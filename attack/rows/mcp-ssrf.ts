// M4: SSRF through Client ID Metadata Documents. A client_id URL that points at loopback,
// link-local or private space (in any encoding) is refused before any connection is made. Proved
// with a listener of our own on 127.0.0.1: it must see no connection at all.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { isLoopbackUrl } from '../http.js';
import { pkce } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { sleep } from './common.js';

export const m4: AttackRow = {
  id: 'M4',
  title: 'SSRF through client metadata URLs (loopback, link-local, private, odd IP encodings)',
  expected: 'rejected before any connection',
  async run(ctx) {
    const c = new Checks();
    const { as, resource } = await ctx.endpoint('customer');
    const sockets: Socket[] = [];
    const listener = createServer((s) => { sockets.push(s); s.destroy(); });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      const ids: [string, string][] = [
        ['loopback literal', `https://127.0.0.1:${port}/client.json`],
        ['localhost', `https://localhost:${port}/client.json`],
        ['plain http loopback', `http://127.0.0.1:${port}/client.json`],
        ['hex IPv4 0x7f.0.0.1', `https://0x7f.0.0.1:${port}/client.json`],
        ['decimal IPv4 2130706433', `https://2130706433:${port}/client.json`],
        ['short IPv4 127.1', `https://127.1:${port}/client.json`],
        ['octal IPv4 0177.0.0.1', `https://0177.0.0.1:${port}/client.json`],
        ['IPv4-mapped IPv6', `https://[::ffff:127.0.0.1]:${port}/client.json`],
        ['IPv6 loopback', `https://[::1]:${port}/client.json`],
        ['unspecified 0.0.0.0', `https://0.0.0.0:${port}/client.json`],
        ['cloud metadata (link-local)', 'https://169.254.169.254/latest/meta-data/client.json'],
        ['private 10/8', 'https://10.0.0.1/client.json'],
        ['private 192.168/16', 'https://192.168.1.1/client.json'],
        ['private 172.16/12', 'https://172.16.0.1/client.json'],
        ['CGNAT 100.64/10', 'https://100.64.0.1/client.json'],
        ['IPv6 link-local', 'https://[fe80::1]/client.json'],
        ['IPv6 unique local', 'https://[fd00::1]/client.json'],
        ['userinfo trick', `https://example.com@127.0.0.1:${port}/client.json`],
      ];
      for (const [name, clientId] of ids) {
        const u = new URL(as.authorization_endpoint);
        const p = pkce();
        for (const [k, v] of Object.entries({
          response_type: 'code', client_id: clientId, redirect_uri: `http://127.0.0.1:${port}/callback`, resource,
          code_challenge: p.challenge, code_challenge_method: 'S256', state: 's',
        })) u.searchParams.set(k, v);
        const before = sockets.length;
        const res = await ctx.http.fetch(u);
        await res.arrayBuffer();
        await sleep(20);
        const loc = res.headers.get('location');
        c.expect(name, res.status >= 400 && res.status < 500 && !loc && sockets.length === before,
          `${res.status}${loc ? ` → ${loc}` : ''}; connections to our listener: ${sockets.length - before}`);
      }
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
    if (!isLoopbackUrl(ctx.options.target)) c.note('the target is not on this machine: "no connection" was only observable for loopback targets');
    return c.result();
  },
};
