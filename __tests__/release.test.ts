/**
 * The release files agree with package.json: the MIT licence it declares, a Keep a Changelog
 * file whose latest release is the package's version, and release instructions that only run
 * npm scripts the package has.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

const file = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const pkg = JSON.parse(file('package.json')) as { version: string; license: string; scripts: Record<string, string> };

describe('LICENSE', () => {
  it('is the MIT licence package.json declares, held by the project\'s contributors', () => {
    const text = file('LICENSE');
    expect(pkg.license).toBe('MIT');
    expect(text.split('\n')[0]).toBe('MIT License');
    expect(text).toMatch(/^Copyright \(c\) \d{4} metrics-flow-check contributors$/m);
    expect(text).toContain('Permission is hereby granted, free of charge, to any person obtaining a copy');
    expect(text).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });
});

describe('CHANGELOG.md', () => {
  const text = file('CHANGELOG.md');
  const headings = [...text.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => ({ version: m[1], date: m[2] }));

  it('starts with Unreleased, then the releases newest first, each dated, the latest being package.json\'s version', () => {
    expect(headings[0]).toEqual({ version: 'Unreleased', date: undefined });
    const releases = headings.slice(1);
    expect(releases.length).toBeGreaterThan(0);
    expect(releases[0].version).toBe(pkg.version);
    for (const r of releases) expect(r).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+(-[\w.]+)?$/), date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    const dates = releases.map((r) => r.date as string);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('has a link reference for every heading', () => {
    for (const { version } of headings) expect(text).toMatch(new RegExp(`^\\[${version.replace(/\./g, '\\.')}\\]: https://\\S+$`, 'm'));
  });

  it('groups changes under the Keep a Changelog kinds only', () => {
    const kinds = [...text.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.filter((k) => !['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'].includes(k))).toEqual([]);
  });
});

describe('docs/releasing.md', () => {
  const text = file('docs/releasing.md');

  it('runs only npm scripts package.json has', () => {
    const scripts = [...text.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((s) => !(s in pkg.scripts))).toEqual([]);
  });

  it('describes the moving major tag and the immutable release tags', () => {
    expect(text).toMatch(/`v1` \(`vMAJOR`\) \| yes/);
    expect(text).toMatch(/`v1\.4\.2` \(`vMAJOR\.MINOR\.PATCH`\) \| never/);
    expect(text).toContain('git tag -a v1.4.2');
    expect(text).toContain('git push --force origin v1');
  });
});
