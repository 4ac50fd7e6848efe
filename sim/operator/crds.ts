/**
 * The CustomResourceDefinitions of monitoring.coreos.com that the simulated operator reads:
 * Prometheus, ServiceMonitor and PodMonitor, with the names, scope, printer columns and
 * subresources of prometheus-operator's generated CRDs (example/prometheus-operator-crd), and
 * of their schemas only the defaults the API server applies (spec.scrapeInterval,
 * evaluationInterval, portName, shards; relabelings' action). Every other field is kept as is.
 */
import type { KubeObject } from '../kube/view.js';

const GROUP = 'monitoring.coreos.com';
const KEEP = { 'x-kubernetes-preserve-unknown-fields': true };

/** A relabeling list whose items default `action` to `replace`, as the CRDs declare. */
const relabelings = { type: 'array', items: { type: 'object', ...KEEP, properties: { action: { type: 'string', default: 'replace' } } } };

function crd(
  plural: string,
  kind: string,
  shortName: string,
  spec: Record<string, unknown>,
  extra: { printerColumns?: unknown[]; scale?: unknown } = {},
): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}`, annotations: { 'operator.prometheus.io/version': '0.93.0' } },
    spec: {
      group: GROUP,
      names: { categories: ['prometheus-operator'], kind, listKind: `${kind}List`, plural, shortNames: [shortName], singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          ...(extra.printerColumns ? { additionalPrinterColumns: extra.printerColumns } : {}),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { type: 'object', ...KEEP, properties: spec },
                status: { type: 'object', ...KEEP },
              },
            },
          },
          subresources: { status: {}, ...(extra.scale ? { scale: extra.scale } : {}) },
        },
      ],
    },
  };
}

const endpointItems = { type: 'array', items: { type: 'object', ...KEEP, properties: { relabelings, metricRelabelings: relabelings } } };

/** The three CRDs, as `kubectl apply` of prometheus-operator's CRD manifests would store them. */
export function monitoringCrds(): KubeObject[] {
  return [
    crd(
      'prometheuses',
      'Prometheus',
      'prom',
      {
        evaluationInterval: { type: 'string', default: '30s' },
        portName: { type: 'string', default: 'web' },
        scrapeInterval: { type: 'string', default: '30s' },
        shards: { type: 'integer', default: 1 },
      },
      {
        printerColumns: [
          { description: 'The version of Prometheus', jsonPath: '.spec.version', name: 'Version', type: 'string' },
          { description: 'The number of desired replicas', jsonPath: '.spec.replicas', name: 'Desired', type: 'integer' },
          { description: 'The number of ready replicas', jsonPath: '.status.availableReplicas', name: 'Ready', type: 'integer' },
          { jsonPath: ".status.conditions[?(@.type == 'Reconciled')].status", name: 'Reconciled', type: 'string' },
          { jsonPath: ".status.conditions[?(@.type == 'Available')].status", name: 'Available', type: 'string' },
          { jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' },
          { description: 'Whether the resource reconciliation is paused or not', jsonPath: '.status.paused', name: 'Paused', priority: 1, type: 'boolean' },
        ],
        scale: { labelSelectorPath: '.status.selector', specReplicasPath: '.spec.shards', statusReplicasPath: '.status.shards' },
      },
    ),
    crd('servicemonitors', 'ServiceMonitor', 'smon', { endpoints: endpointItems }),
    crd('podmonitors', 'PodMonitor', 'pmon', { podMetricsEndpoints: endpointItems }),
  ];
}
