import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';

describe('documentation that cannot rot', () => {
  it('docs/exit-codes.md matches the error-code table', () => {
    const generated = execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-exit-codes.js')]).toString();
    expect(readFileSync(join(ROOT, 'docs', 'exit-codes.md'), 'utf8')).toBe(generated);
  });

  it('the README shows the same test command that .ci/run calls', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
    expect(ci).toMatch(/scripts\/install-test-deps\.sh/);
    expect(readme).toContain('sudo bash scripts/install-test-deps.sh && npm test');
  });
});
