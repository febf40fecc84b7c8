/**
 * Thin commands (docs/architecture.md, "Commands and their runners"): a file in src/commands is summary, examples,
 * args and one call into a runner in src/cli, under 60 lines. Files still over the limit are listed in OVERSIZE with
 * with their current length, which they may not exceed; delete a line once its file is under the limit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../helpers/cli';

const LIMIT = 60;

// Over the limit today (ADR 0016): none; a file that must grow past the limit is listed here with its length.
const OVERSIZE: Record<string, number> = {};

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('thin commands', () => {
  const lengths = Object.fromEntries(
    commandFiles(join(ROOT, 'src/commands')).map((f) => [
      relative(ROOT, f),
      readFileSync(f, 'utf8').replace(/\n$/, '').split('\n').length,
    ]),
  );

  it(`every command file is under ${LIMIT} lines, or listed and no longer than its listed length`, () => {
    const offenders = Object.entries(lengths)
      .filter(([f, n]) => n >= LIMIT && n > (OVERSIZE[f] ?? LIMIT - 1))
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(offenders).toEqual([]);
  });

  it('a file over the limit today is really listed (so the check above is not vacuous)', () => {
    const over = Object.entries(lengths).filter(([, n]) => n >= LIMIT);
    for (const [f] of over) expect(OVERSIZE).toHaveProperty([f]);
    expect(Object.keys(lengths).length).toBeGreaterThan(30);
  });
});
