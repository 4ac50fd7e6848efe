/** The small text helpers: globs as allow-down-targets reads them. */
import { describe, expect, it } from '@jest/globals';
import { globMatches } from '../src/text.js';

describe('globMatches', () => {
  it.each([
    ['serviceMonitor/kube-system/kube-controller-manager/*', 'serviceMonitor/kube-system/kube-controller-manager/0', true],
    ['serviceMonitor/kube-system/*', 'serviceMonitor/kube-system/kube-scheduler/1', true],
    ['kube-*', 'kube-proxy', true],
    ['kube-?roxy', 'kube-proxy', true],
    ['10.0.0.*:10257', '10.0.0.5:10257', true],
    ['kube-scheduler', 'kube-scheduler', true],
    ['kube-scheduler', 'kube-scheduler-x', false],
    ['*scheduler', 'kube-controller-manager', false],
    ['kube.proxy', 'kube-proxy', false],
    ['', 'x', false],
    ['*', '', true],
  ])('%s on %s: %s', (glob, text, expected) => {
    expect(globMatches(glob, text)).toBe(expected);
  });

  it('stays fast on a hostile glob (no exponential backtracking)', () => {
    const started = Date.now();
    expect(globMatches(`${'*a'.repeat(50)}b`, 'a'.repeat(5000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
