/** `prometheus-pod`: a pod matching `prometheus-selector` is Running and Ready. */
import { podCheck } from './pod-check.js';

export const prometheusPod = podCheck('prometheus-pod', 'Prometheus', (s) => s.prometheusSelector);
