/**
 * The CustomResourceDefinitions grafana-operator v5 installs (config/crd/bases/
 * grafana.integreatly.org_{grafanas,grafanadashboards,grafanadatasources}.yaml): namespaced,
 * version v1beta1 served and stored, the status subresource, categories `all` and
 * `grafana-operator`, and the printer columns of the CRDs. Their schemas are reduced to
 * objects whose spec and status keep unknown fields: the simulated operator reads the fields it
 * implements.
 */
import type { KubeObject } from '../kube/view.js';

const GROUP = 'grafana.integreatly.org';

function crd(kind: string, plural: string, columns: { name: string; type: string; jsonPath: string; format?: string }[]): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), categories: ['all', 'grafana-operator'] },
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  } as KubeObject;
}

const synced = [
  { name: 'No matching instances', type: 'boolean', jsonPath: '.status.NoMatchingInstances' },
  { name: 'Last resync', type: 'date', jsonPath: '.status.lastResync', format: 'date-time' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function grafanaOperatorCrds(): KubeObject[] {
  return [
    crd('Grafana', 'grafanas', [
      { name: 'Version', type: 'string', jsonPath: '.status.version' },
      { name: 'Stage', type: 'string', jsonPath: '.status.stage' },
      { name: 'Stage status', type: 'string', jsonPath: '.status.stageStatus' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]),
    crd('GrafanaDashboard', 'grafanadashboards', synced),
    crd('GrafanaDatasource', 'grafanadatasources', synced),
  ];
}
