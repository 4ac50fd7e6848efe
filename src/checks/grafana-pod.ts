/** `grafana-pod`: a pod matching `grafana-selector` is Running and Ready. */
import { podCheck } from './pod-check.js';

export const grafanaPod = podCheck('grafana-pod', 'Grafana', (s) => s.grafanaSelector);
