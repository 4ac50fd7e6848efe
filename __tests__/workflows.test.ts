/**
 * The CI workflow does what it must: the test suite on the Node.js of .node-version with Debian's
 * Prometheus, the check that the committed dist/ is a fresh build, and the action itself run by
 * the runner (`uses: ./`) against a simulated cluster, with its outputs asserted.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, string | number | boolean>;
  readonly env?: Record<string, string>;
  readonly if?: string;
}
interface Job {
  readonly 'runs-on': string;
  readonly container?: string;
  readonly steps: readonly Step[];
}

const file = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const workflow = parse(file('.github/workflows/ci.yml')) as { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };
const action = parse(file('action.yml')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown>; runs: { using: string } };
const pkg = JSON.parse(file('package.json')) as { engines: { node: string }; scripts: Record<string, string> };
const jobs = Object.entries(workflow.jobs);

/** Index of the first step of `job` matching `test`; fails the test when there is none. */
function stepIndex(job: Job, what: string, test: (s: Step) => boolean): number {
  const index = job.steps.findIndex(test);
  expect({ step: what, found: index >= 0 }).toEqual({ step: what, found: true });
  return index;
}

const runs = (pattern: RegExp) => (s: Step) => typeof s.run === 'string' && pattern.test(s.run);

/** `${{ steps.ID.outputs.NAME }}` references in a step (its with, env, run and if). */
function outputRefs(step: Step): { id: string; output: string }[] {
  const text = JSON.stringify([step.with, step.env, step.run, step.if]);
  return [...text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)].map((m) => ({ id: m[1], output: m[2] }));
}

describe('.github/workflows/ci.yml', () => {
  it('runs on every push to main and every pull request, with read-only contents', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.on.push).toEqual({ branches: ['main'] });
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(jobs.length).toBeGreaterThanOrEqual(2);
  });

  it('every job installs Debian\'s Prometheus, sets up the Node.js of .node-version and runs npm ci, in that order', () => {
    for (const [name, job] of jobs) {
      expect({ name, container: job.container }).toEqual({ name, container: 'debian:12' });
      const prometheus = stepIndex(job, `${name}: apt-get install prometheus`, runs(/apt-get install[^\n]*\bprometheus\b/));
      const node = stepIndex(job, `${name}: setup-node`, (s) => s.uses?.startsWith('actions/setup-node@') === true && s.with?.['node-version-file'] === '.node-version');
      const ci = stepIndex(job, `${name}: npm ci`, runs(/^npm ci\b/m));
      expect(prometheus).toBeLessThan(ci);
      expect(node).toBeLessThan(ci);
    }
  });

  it('runs npm test, then fails when dist/ differs from the build', () => {
    const withTests = jobs.filter(([, job]) => job.steps.some(runs(/^npm test$/m)));
    expect(withTests).toHaveLength(1);
    const [, job] = withTests[0];
    const test = stepIndex(job, 'npm test', runs(/^npm test$/m));
    const dist = stepIndex(job, 'git diff --exit-code dist', runs(/git diff --exit-code\b[^\n]*-- dist\b/));
    expect(test).toBeLessThan(dist);
    expect(job.steps[dist].run).toMatch(/exit 1/);
    // npm test rebuilds what the diff compares.
    expect(pkg.scripts.test).toMatch(/npm run build\b/);
    expect(pkg.scripts.build).toMatch(/npm run bundle\b/);
  });

  it('runs the action itself (uses: ./) with the kubeconfig of a simulated cluster started before it', () => {
    const withAction = jobs.filter(([, job]) => job.steps.some((s) => s.uses === './'));
    expect(withAction).toHaveLength(1);
    const [, job] = withAction[0];
    const check = stepIndex(job, 'uses: ./', (s) => s.uses === './');
    const step = job.steps[check];
    expect(step.id).toBeTruthy();
    // Only inputs the action declares.
    expect(Object.keys(step.with ?? {}).filter((k) => !(k in action.inputs))).toEqual([]);
    expect(step.with?.kubeconfig).toBe('${{ steps.sim.outputs.kubeconfig }}');
    const sim = stepIndex(job, 'the step with id sim', (s) => s.id === 'sim');
    expect(sim).toBeLessThan(check);
    const start = job.steps[sim].run ?? '';
    expect(start).toMatch(/node lib\/scripts\/sim-cluster\.js --stack kube-prometheus-stack\b/);
    expect(existsSync(new URL('../scripts/sim-cluster.ts', import.meta.url))).toBe(true);
    expect(start).toMatch(/npm run --silent build:lib/);
    expect(start).toMatch(/echo "kubeconfig=[^\n]*>> "\$GITHUB_OUTPUT"/);
    // Stopped whatever happened.
    const stop = stepIndex(job, 'stop the simulated cluster', runs(/kill -TERM/));
    expect(job.steps[stop].if).toBe('always()');
    expect(stop).toBe(job.steps.length - 1);
  });

  it("asserts the action's outputs: passed, on kube-prometheus-stack", () => {
    const [, job] = jobs.find(([, j]) => j.steps.some((s) => s.uses === './')) as [string, Job];
    const id = job.steps.find((s) => s.uses === './')?.id as string;
    const assert = job.steps.find((s) => outputRefs(s).some((r) => r.id === id && r.output === 'result'));
    expect(assert).toBeDefined();
    const env = Object.entries(assert?.env ?? {});
    const variableOf = (output: string) => env.find(([, value]) => value === `\${{ steps.${id}.outputs.${output} }}`)?.[0] ?? `no env for ${output}`;
    expect(assert?.run).toContain(`test "$${variableOf('result')}" = passed`);
    expect(assert?.run).toContain(`test "$${variableOf('stack')}" = kube-prometheus-stack`);
    expect(assert?.run).toContain(`test -z "$${variableOf('failed-checks')}"`);
  });

  it('refers only to outputs of earlier steps, and to outputs the action declares', () => {
    let refs = 0;
    for (const [name, job] of jobs) {
      job.steps.forEach((step, index) => {
        for (const ref of outputRefs(step)) {
          refs += 1;
          const producer = job.steps.findIndex((s) => s.id === ref.id);
          expect({ job: name, ref, before: producer >= 0 && producer < index }).toEqual({ job: name, ref, before: true });
          if (job.steps[producer].uses === './') expect({ ref, declared: ref.output in action.outputs }).toEqual({ ref, declared: true });
        }
      });
    }
    expect(refs).toBeGreaterThanOrEqual(5);
  });

  it('pins every action it uses to a major version tag', () => {
    const used = jobs.flatMap(([, job]) => job.steps.flatMap((s) => (s.uses && s.uses !== './' ? [s.uses] : [])));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((u) => !/^actions\/[\w-]+@v\d+$/.test(u))).toEqual([]);
  });

  it('runs the command-line tool on the oldest Node.js package.json engines allows', () => {
    const floor = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(pkg.engines.node);
    expect(floor).not.toBeNull();
    const version = `${floor?.[1]}.${floor?.[2]}.${floor?.[3] ?? 0}`;
    const [, job] = jobs.find(([, j]) => j.steps.some((s) => s.uses === './')) as [string, Job];
    const setup = stepIndex(job, `setup-node ${version}`, (s) => s.uses?.startsWith('actions/setup-node@') === true && String(s.with?.['node-version']) === version);
    const cli = stepIndex(job, 'the CLI on that Node.js', runs(/node bin\/metrics-flow-check\.js --kubeconfig/));
    expect(setup).toBeLessThan(cli);
    expect(job.steps[cli].run).toContain(`test "$(node --version)" = v${version}`);
  });
});

describe('.node-version', () => {
  it("names the major version of the action's runtime", () => {
    expect(file('.node-version')).toBe('24\n');
    expect(action.runs.using).toBe(`node${file('.node-version').trim()}`);
  });
});
