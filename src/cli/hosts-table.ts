import type { HostInventory } from '../bus/host-inventory.js';
import { formatTable } from './table.js';

/**
 * The hosts on the bus as `helm status` shows them under its table (pure; issue 13): each host that
 * publishes its inventory, with when it last did, its services and those not healthy; and each known
 * host that went silent (its inventory expired: its Helm stopped, or cannot reach Redis).
 */
export function hostsTable(hosts: { live: HostInventory[]; silent: string[] }, now: Date): string {
  if (hosts.live.length === 0 && hosts.silent.length === 0) return '';
  const rows = [
    ...hosts.live.map((h) => {
      const unwell = h.services.filter((s) => !s.healthy).map((s) => s.service);
      const ago = Math.max(0, Math.round((now.getTime() - Date.parse(h.at)) / 1000));
      return [
        h.host,
        `seen ${ago}s ago`,
        `${h.services.length}${h.truncated ? '+' : ''}`,
        unwell.length > 0 ? unwell.join(', ') : '-',
      ];
    }),
    ...hosts.silent.map((host) => [host, 'SILENT (no inventory: down, or cut off from Redis)', '?', '?']),
  ];
  return formatTable(['HOST', 'LAST REPORT', 'SERVICES', 'NOT HEALTHY'], rows);
}
