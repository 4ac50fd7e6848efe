/** The simulated workloads listen only on loopback addresses (127.0.0.0/8), like pod IPs here. */
import { isIPv4 } from 'node:net';

export function assertLoopback(host: string): void {
  if (!isIPv4(host) || !host.startsWith('127.')) {
    throw new Error(`refusing to listen on ${host}: only 127.0.0.0/8 addresses are allowed`);
  }
}
