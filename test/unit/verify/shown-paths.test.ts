/**
 * The core never reads the working directory (docs/architecture.md, edges): a verify report names files relative to
 * the folder the caller passes (the CLI passes its cwd), and as joined under the checked folder when none is given.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, checkBundleManifest, writeBundle } from '../../../src/bundle';
import { bundleSource, directorySource } from '../../../src/verify/sources';

describe('display paths are the caller’s choice', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tufsign-shown-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('a folder source names files relative to shownFrom, or joined under its folder', () => {
    const dir = join(tmp, 'repo');
    mkdirSync(join(dir, 'metadata'), { recursive: true });
    writeFileSync(join(dir, 'metadata/root.json'), '{}');
    expect(directorySource(dir, tmp).describe('metadata/root.json')).toBe('repo/metadata/root.json');
    expect(directorySource(dir, join(tmp, 'elsewhere')).describe('metadata/root.json')).toBe(
      '../repo/metadata/root.json',
    );
    expect(directorySource(dir).describe('metadata/root.json')).toBe(join(dir, 'metadata/root.json'));
    expect(bundleSource(dir, new Map(), tmp).describe('metadata/root.json')).toBe('repo/metadata/root.json');
    expect(directorySource(dir, tmp).read('metadata/root.json')?.toString()).toBe('{}');
  });

  it('the tarball beside a bundle folder is named relative to shownFrom in the bundle check', async () => {
    const { entries } = buildBundle({
      repository: 'demo',
      base: {},
      files: [{ path: 'metadata/timestamp.json', data: Buffer.from('{}'), new: true }],
    });
    const dir = join(tmp, 'out', 'bundle');
    await writeBundle(dir, entries);
    await writeBundle(`${dir}.tar.gz`, entries);
    writeFileSync(join(dir, 'extra'), 'not listed'); // the folder no longer matches: the tarball is not opened
    const messages = async (shownFrom?: string) =>
      (await checkBundleManifest(dir, shownFrom)).report.checks.filter((c) => !c.ok).map((c) => c.message);
    expect(await messages(join(tmp, 'out'))).toContain(
      'bundle.tar.gz not checked: the folder does not match its manifest',
    );
    expect(await messages()).toContain(`${dir}.tar.gz not checked: the folder does not match its manifest`);
  });
});
