/** `grafana-pod`: a Grafana pod is Running and Ready, with its datasource sidecar where the stack has one. */
import { podCheck } from './pod-check.js';

export const grafanaPod = podCheck('grafana-pod', 'Grafana', (stack) => stack.grafana);
