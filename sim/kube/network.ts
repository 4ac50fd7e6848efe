/**
 * Cluster networking as a pod sees it: cluster DNS for Services and kube-proxy routing from a
 * Service's clusterIP and port to a ready endpoint. Service clusterIPs are only labels: a dial
 * always resolves to a pod's loopback address, and nothing outside 127.0.0.0/8 is ever reached.
 */
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import type { DialResult, KubeObject } from './view.js';

type Lister = (kind: string, namespace?: string) => KubeObject[];

/** The address of the cluster DNS Service, as pods' resolv.conf names it. */
export const CLUSTER_DNS_IP = '10.96.0.10';
const CLUSTER_DOMAIN = 'cluster.local';

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

interface EndpointSubset {
  addresses?: { ip: string }[];
  ports?: { name?: string; port: number }[];
}

function clusterIP(svc: KubeObject): string | undefined {
  return (svc.spec as { clusterIP?: string }).clusterIP;
}

/** `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local` → [service, namespace]. */
function serviceName(host: string, fromNamespace: string): [string, string] | undefined {
  const parts = host.replace(/\.$/, '').split('.');
  const fqdn = parts.length === 5 && parts.slice(2).join('.') === `svc.${CLUSTER_DOMAIN}`;
  if (parts.length === 1) return [parts[0], fromNamespace];
  if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc') || fqdn) return [parts[0], parts[1]];
  return undefined;
}

function readyAddresses(endpoints: KubeObject | undefined, portName: string | undefined) {
  const subsets = (endpoints?.subsets ?? []) as EndpointSubset[];
  return subsets.flatMap((s) => {
    const port = s.ports?.find((p) => (p.name ?? '') === (portName ?? '')) ?? (s.ports?.length === 1 ? s.ports[0] : undefined);
    return port ? (s.addresses ?? []).map((a) => ({ address: a.ip, port: port.port })) : [];
  });
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export class ClusterNetwork {
  constructor(private readonly list: Lister) {}

  private endpointsOf(svc: KubeObject): KubeObject | undefined {
    return this.list('Endpoints', svc.metadata.namespace).find((e) => e.metadata.name === svc.metadata.name);
  }

  /** Cluster DNS as seen from a pod in `fromNamespace`. */
  lookupHost(host: string, fromNamespace: string): { name: string; address: string } | undefined {
    if (isIP(host)) return { name: host, address: host };
    const ref = serviceName(host, fromNamespace);
    if (!ref) return undefined;
    const svc = this.list('Service', ref[1]).find((s) => s.metadata.name === ref[0]);
    if (!svc) return undefined;
    const name = `${ref[0]}.${ref[1]}.svc.${CLUSTER_DOMAIN}`;
    const ip = clusterIP(svc);
    if (ip && ip !== 'None') return { name, address: ip };
    const first = readyAddresses(this.endpointsOf(svc), undefined)[0] ?? this.anyReadyAddress(svc);
    return first ? { name, address: first.address } : undefined;
  }

  /** A headless Service resolves to its pods' IPs, whatever their ports. */
  private anyReadyAddress(svc: KubeObject): { address: string } | undefined {
    const subsets = (this.endpointsOf(svc)?.subsets ?? []) as EndpointSubset[];
    const ip = subsets.flatMap((s) => s.addresses ?? [])[0]?.ip;
    return ip ? { address: ip } : undefined;
  }

  /** A TCP connection from a pod, routed as kube-proxy would. */
  dial(host: string, port: number, fromNamespace: string): DialResult {
    const resolved = this.lookupHost(host, fromNamespace);
    if (!resolved) return { error: `dial tcp: lookup ${host} on ${CLUSTER_DNS_IP}:53: no such host` };
    const ip = resolved.address;
    const target = `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
    const svc = this.list('Service').find((s) => clusterIP(s) === ip);
    if (svc) {
      const sp = ((svc.spec as { ports?: ServicePort[] }).ports ?? []).find(
        (p) => p.port === port && (p.protocol ?? 'TCP') === 'TCP',
      );
      if (!sp) return { error: `dial tcp ${target}: i/o timeout` };
      const ready = readyAddresses(this.endpointsOf(svc), sp.name);
      if (ready.length === 0) return { error: `dial tcp ${target}: connect: connection refused` };
      return ready[randomInt(ready.length)];
    }
    if (isLoopback(ip)) return { address: ip, port };
    return { error: `dial tcp ${target}: i/o timeout` };
  }
}
