/** action.yml states the contract: every input with its default, every output, the node24 runtime. */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULTS } from '../src/settings.js';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, { default: string; description: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
};

describe('action.yml', () => {
  it('declares every input of the contract with the default the settings apply', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(DEFAULTS).sort());
    for (const [name, spec] of Object.entries(action.inputs)) {
      expect({ name, default: spec.default }).toEqual({ name, default: DEFAULTS[name as keyof typeof DEFAULTS] });
      expect(spec.description.length).toBeGreaterThan(10);
    }
  });

  it("declares the contract's outputs and runs dist/index.js on node24", () => {
    expect(Object.keys(action.outputs).sort()).toEqual(['failed', 'failed-checks', 'passed', 'report', 'result', 'skipped', 'stack', 'warnings']);
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });
});
