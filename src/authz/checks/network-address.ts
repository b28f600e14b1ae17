// M4: which IP addresses an outbound fetch (Client ID Metadata Documents) may connect to. Anything
// not globally routable is refused: loopback, private (RFC 1918, ULA), link-local, CGNAT,
// documentation, multicast, reserved, and IPv6 forms that embed an IPv4 address.
import { BlockList, isIP } from 'node:net';

// Two lists: node's BlockList matches IPv4 addresses against IPv6 rules too (as mapped addresses).
const blocked4 = new BlockList();
const blocked6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['::ffff:0:0', 96], ['::', 96] /* IPv4-compatible */, ['64:ff9b::', 96], ['64:ff9b:1::', 48],
  ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked6.addSubnet(net, prefix, 'ipv6');

/** RFC 6890 special-purpose registries: true only for a globally reachable unicast address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked4.check(address, 'ipv4');
  if (family === 6) return !blocked6.check(address, 'ipv6');
  return false;
}
