/** The catalog of stack profiles, in recognition order (the most specific first; generic last). */
import type { StackKind } from '../../types.js';
import { generic } from './generic.js';
import { kubePrometheusStack } from './kube-prometheus-stack.js';
import { kubePrometheus } from './kube-prometheus.js';
import type { StackProfile } from './profile.js';
import { taskflow } from './taskflow.js';

export const PROFILES: readonly StackProfile[] = [kubePrometheusStack, kubePrometheus, taskflow, generic];

export function profileOf(kind: StackKind): StackProfile {
  return PROFILES.find((p) => p.kind === kind) ?? generic;
}

export type { Facts, MonitorRef, StackProfile } from './profile.js';
export { grafanaRestart, objectName, restartCommand } from './profile.js';
export { sidecarRaceFix, sidecarRbacFix, sidecarRule } from './profile.js';
