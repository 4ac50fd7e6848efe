/** `prometheus-pod`: every Prometheus pod (every replica) is Running and Ready. */
import { podCheck } from './pod-check.js';

export const prometheusPod = podCheck('prometheus-pod', 'Prometheus', (stack) => stack.prometheus);
