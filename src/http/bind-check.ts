import { BlockList, isIPv6 } from 'node:net';

/**
 * Whether the HTTP server may listen here without a bearer token: only on loopback (127.0.0.0/8,
 * ::1, and their IPv4-mapped forms). Anything else, including 0.0.0.0 and ::, reaches other hosts,
 * so Helm refuses to start there without HELM_HTTP_TOKEN. Pure: the address is an IP literal
 * (config/config-schema.ts), never a name to resolve.
 */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopback(host: string): boolean {
  return LOOPBACK.check(host, isIPv6(host) ? 'ipv6' : 'ipv4');
}

/** The start-up problems of this bind (empty: fine). */
export function bindProblems(bind: { host: string; port: number }, token: string | undefined): string[] {
  if (token || isLoopback(bind.host)) return [];
  return [
    `HELM_HTTP_ADDR: ${bind.host} is not a loopback address, so HELM_HTTP_TOKEN must be set ` +
      '(every request then carries Authorization: Bearer <token>); or bind 127.0.0.1, or set it off',
  ];
}
