/**
 * The import fence of docs/architecture.md (eslint.fence.mjs), checked on probe sources and on the real tree:
 * a forbidden edge is reported, an allowed one is not, and every exemption is still needed (so the debt list
 * only shrinks; `npm run lint` checks that the tree is inside the fence). Linted without type information.
 */
import { execFileSync } from 'node:child_process';
import { ROOT } from '../../helpers/cli';

interface Probe {
  file: string;
  code: string;
  debt?: boolean;
}
interface Verdict {
  file: string;
  messages: { ruleId: string | null; message: string }[];
}

const SCRIPT = `
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { readFileSync } from 'node:fs';
import { fence } from './eslint.fence.mjs';
const probes = JSON.parse(readFileSync(0, 'utf8'));
const base = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } }];
const linters = new Map();
const linter = (debt) => {
  if (!linters.has(debt)) linters.set(debt, new ESLint({ cwd: process.cwd(), overrideConfigFile: true, overrideConfig: [...base, ...fence({ debt })] }));
  return linters.get(debt);
};
const out = [];
for (const p of probes) {
  const eslint = linter(p.debt !== false);
  const code = p.code ?? readFileSync(p.file, 'utf8');
  const [r] = await eslint.lintText(code, { filePath: p.file });
  out.push({ file: p.file, messages: r.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })) });
}
process.stdout.write(JSON.stringify(out));
`;
const EXEMPTIONS =
  "import { DEBT, EDGES } from './eslint.fence.mjs'; process.stdout.write(JSON.stringify({ DEBT, EDGES }));";

function lint(probes: (Omit<Probe, 'code'> & { code?: string })[]): Verdict[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    input: JSON.stringify(probes),
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.toString()) as Verdict[];
}

const fences = (v: Verdict): string[] =>
  v.messages.map(
    (m) =>
      /fence "([^"]+)"/.exec(m.message)?.[1] ??
      (m.message.includes('clock') ? 'clock' : m.message.includes('process.') ? 'process' : `${m.ruleId}`),
  );

interface Debt {
  DEBT: Record<string, string[]>;
  EDGES: Record<string, string[]>;
}
function exemptions(): Debt {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', EXEMPTIONS], { cwd: ROOT });
  return JSON.parse(out.toString()) as Debt;
}

describe('architecture fence (docs/architecture.md)', () => {
  it('reports each forbidden edge and lets the allowed ones through', () => {
    const cases: [string, string, string[]][] = [
      // [file, source, fences expected to fire]
      ['src/tuf/probe.ts', "import { readFileSync } from 'node:fs';", ['node:fs']],
      ['src/tuf/probe.ts', "import { Workspace } from '../repository/workspace';", ['repository']],
      ['src/tuf/probe.ts', "import { writeFileAtomic } from '../io/fs';", ['io except hash']],
      ['src/tuf/probe.ts', "import { sha256Hex } from '../io/hash';", []],
      ['src/tuf/probe.ts', 'export const t = Date.now();', ['clock']],
      ['src/tuf/probe.ts', 'export const t = new Date();', ['clock']],
      ['src/tuf/probe.ts', "export const t = new Date('2030-01-01T00:00:00Z');", []],
      ['src/bundle/probe.ts', "import { verifyWorkspace } from '../repository/verify';", ['repository']],
      ['src/bundle/probe.ts', "import { writeTar } from '../release/tar';", []],
      ['src/bundle/probe.ts', "import { verifyRepository } from '../verify/verify';", []],
      ['src/verify/probe.ts', "import { bundleSource } from '../bundle/verify';", ['bundle']],
      ['src/bundle/probe.ts', 'export const d = process.cwd();', ['process']],
      ['src/repository/probe.ts', "import { BaseCommand } from '../cli/base-command';", ['cli']],
      ['src/repository/probe.ts', "import { Flags } from '@oclif/core';", ['oclif']],
      ['src/repository/probe.ts', "import { release } from './release';", []],
      ['src/keystore/yubikey/probe.ts', "import { Workspace } from '../../repository/workspace';", ['repository']],
      ['src/keystore/yubikey/probe.ts', "import { sha256Hex } from '../../io/hash';", []],
      ['src/ceremony/probe.ts', "import { loadSigner } from '../keystore/registry';", ['keystore']],
      ['src/release/probe.ts', "import { Workspace } from '../repository/workspace';", ['repository']],
      ['src/cli/probe.ts', "import Sign from '../commands/sign';", ['commands']],
      ['src/cli/probe.ts', "import { Workspace } from '../repository/workspace';", []],
      ['src/cli/probe.ts', 'export const d = process.cwd();', []],
      ['src/commands/probe.ts', "import { Workspace } from '../repository/workspace';", ['repository']],
      ['src/commands/topic/probe.ts', "import { Workspace } from '../../repository/workspace';", ['repository']],
      ['src/commands/topic/probe.ts', "import type { Workspace } from '../../repository/workspace';", []],
      ['src/commands/topic/probe.ts', "import { BaseCommand } from '../../cli/base-command';", []],
      ['src/commands/probe.ts', "import { TufsignError } from '../errors';", []],
      ['src/commands/probe.ts', "import { importRepository } from '../import';", ['import']],
      ['src/commands/probe.ts', "import { join } from 'node:path';", ['node:*']],
      ['src/commands/probe.ts', "import { input } from '@inquirer/prompts';", ['packages']],
      ['src/commands/probe.ts', "import { Args } from '@oclif/core';", []],
      ['src/commands/probe.ts', 'export const d = process.cwd();', ['process']],
      ['src/index.ts', "export { BaseCommand } from './cli/base-command';", ['cli']],
      ['src/index.ts', "export { Workspace } from './repository/workspace';", []],
      ['src/errors.ts', "import { Workspace } from './repository/workspace';", ['repository']],
      ['src/verify/probe.ts', "import { Workspace } from '../repository/workspace';", ['repository']],
      ['src/io/probe.ts', "import { readFileSync } from 'node:fs';", []],
      // only io/clock.ts (a named edge) reads the clock; the rest of src/io takes it from there
      ['src/io/probe.ts', 'export const t = Date.now();', ['clock']],
      ['src/keystore/probe.ts', "console.log('x');", ['no-console']],
      // a folder no one has placed yet is core by default
      ['src/newroom/probe.ts', 'export const d = process.cwd();', ['process']],
      ['src/newroom/probe.ts', "import { BaseCommand } from '../cli/base-command';", ['cli']],
      ['src/newroom/probe.ts', "import { Workspace } from '../repository/workspace';", []],
      ['src/hooks/probe.ts', "import { errorEnvelope } from '../cli/envelope'; export const a = process.argv;", []],
      ['src/hooks/probe.ts', "import Sign from '../commands/sign';", ['commands']],
      ['src/standalone/probe.ts', "import { execute } from '@oclif/core'; export const a = process.argv;", []],
      ['src/import/probe.ts', "import { Workspace } from '../repository/workspace';", []],
      ['src/import/probe.ts', "import { readdirSync } from 'node:fs';", ['node:fs']],
      ['src/import/probe.ts', 'export const d = process.cwd();', ['process']],
      ['src/import/probe.ts', "import { BaseCommand } from '../cli/base-command';", ['cli']],
      ['src/release/probe.ts', "export const f = eval('1');", ['no-eval']],
    ];
    const verdicts = lint(cases.map(([file, code]) => ({ file, code })));
    const got = verdicts.map((v, i) => [cases[i]![0], cases[i]![1], fences(v)]);
    expect(got).toEqual(cases);
  });

  it('every exemption is still needed: without it, its file crosses exactly the fences it lists', () => {
    const { DEBT, EDGES } = exemptions();
    const listed: Record<string, string[]> = {};
    for (const [file, f] of [...Object.entries(EDGES), ...Object.entries(DEBT)])
      listed[file] = [...(listed[file] ?? []), ...f];
    const verdicts = lint(Object.keys(listed).map((file) => ({ file, debt: false })));
    for (const v of verdicts) {
      const crossed = [...new Set(fences(v))].sort();
      const edges = EDGES[v.file] ?? [];
      // named edges stay exempt even without the debt list
      const expected = (listed[v.file] ?? []).filter((f) => !edges.includes(f)).sort();
      expect({ file: v.file, crossed }).toEqual({ file: v.file, crossed: expected });
    }
  });
});
