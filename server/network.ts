/**
 * The allowlist of client networks: the contract's "login only from the municipality's own IP
 * address", applied to the API itself.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a single address (a /32 or /128). Throws on anything else. */
function parseNetwork(text: string): [Address, number] {
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const address = ipaddr.parse(text);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** Whether `address` lies in `network`, comparing IPv4 with IPv4-mapped IPv6 either way round. */
function inNetwork(address: Address, [base, bits]: [Address, number]): boolean {
  if (address.kind() === base.kind()) return address.match([base, bits] as [typeof address, number]);
  if (address.kind() === 'ipv4' && base.kind() === 'ipv6') {
    return (address as ipaddr.IPv4).toIPv4MappedAddress().match([base as ipaddr.IPv6, bits]);
  }
  return false;
}

/**
 * A predicate over client addresses for the networks in `allowed` (CIDR or single addresses). An
 * empty list allows every address. An address that does not parse is refused. IPv4-mapped IPv6
 * addresses (`::ffff:10.1.2.3`, as a dual-stack socket reports IPv4 clients) count as their IPv4
 * address. Throws on a network that does not parse (the config schema checks them first).
 */
export function createNetworkCheck(allowed: readonly string[]): (address: string | undefined) => boolean {
  const networks = allowed.map(parseNetwork);
  return (address) => {
    if (networks.length === 0) return true;
    if (address === undefined || !ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address);
    return networks.some((network) => inNetwork(parsed, network));
  };
}
