/**
 * Server-side printing (the `meta.k8s.io/v1` Table) for the kinds table.ts does not cover:
 * custom resources, printed from their CRD's `additionalPrinterColumns` as apiextensions'
 * table convertor does, EndpointSlices, printed as kube-apiserver's printers do
 * (Name, AddressType, Ports, Endpoints, Age), and CustomResourceDefinitions, which apiextensions
 * prints with the default table convertor (Name, Created At).
 */
import type { KubeObject } from './view.js';
import type { PrinterColumn, ResourceType } from './resources.js';
import { jsonPathValues } from './crd.js';

type Obj = Record<string, any>;

interface TableColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  cell: (obj: KubeObject) => unknown;
}

/** apimachinery's HumanDuration, as table.ts prints ages. */
function humanAge(created: string | undefined, now = Date.now()): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return `${d}d`;
}

const nameColumn: TableColumn = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };

/** A cell as apiextensions' cellForJSONValue gives it; null prints as `<none>`. */
function customCell(column: PrinterColumn, obj: KubeObject): unknown {
  let values: unknown[];
  try {
    values = jsonPathValues(obj, column.jsonPath);
  } catch {
    return null;
  }
  const value = values[0];
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? humanAge(value) : null;
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

function endpointSlicePorts(slice: Obj): string {
  const ports: Obj[] = slice.ports ?? [];
  if (ports.length === 0) return '<unset>';
  return ports.map((p) => (p.port === undefined || p.port === null ? '<unset>' : String(p.port))).join(',');
}

function endpointSliceEndpoints(slice: Obj): string {
  const addresses: string[] = (slice.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []);
  if (addresses.length === 0) return '<unset>';
  return addresses.length > 3 ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...` : addresses.join(',');
}

const ENDPOINT_SLICE_COLUMNS: TableColumn[] = [
  nameColumn,
  { name: 'AddressType', type: 'string', cell: (s) => (s as Obj).addressType ?? '' },
  { name: 'Ports', type: 'string', cell: (s) => endpointSlicePorts(s as Obj) },
  { name: 'Endpoints', type: 'string', cell: (s) => endpointSliceEndpoints(s as Obj) },
  { name: 'Age', type: 'string', cell: (s) => humanAge(s.metadata.creationTimestamp) },
];

/** rest.NewDefaultTableConvertor: the name and the creation time in RFC 3339. */
const DEFAULT_COLUMNS: TableColumn[] = [nameColumn, { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp ?? '' }];

function columnsFor(type: ResourceType): TableColumn[] | undefined {
  if (type.kind === 'CustomResourceDefinition' && type.group === 'apiextensions.k8s.io') return DEFAULT_COLUMNS;
  if (type.custom) {
    return [
      nameColumn,
      ...type.custom.printerColumns.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format,
        description: c.description,
        priority: c.priority,
        cell: (o: KubeObject) => customCell(c, o),
      })),
    ];
  }
  if (type.kind === 'EndpointSlice' && type.group === 'discovery.k8s.io') return ENDPOINT_SLICE_COLUMNS;
  return undefined;
}

function rowObject(obj: KubeObject, includeObject: string | null): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** The Table for objects of `type`, or undefined when table.ts prints that kind. */
export function printTable(
  type: ResourceType,
  objects: KubeObject[],
  listMeta: Record<string, string>,
  includeObject: string | null,
): { kind: 'Table'; apiVersion: string; metadata: Record<string, string>; columnDefinitions: unknown[]; rows: unknown[] } | undefined {
  const columns = columnsFor(type);
  if (!columns) return undefined;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((obj) => ({ cells: columns.map((c) => c.cell(obj)), object: rowObject(obj, includeObject) })),
  };
}
