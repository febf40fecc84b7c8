import { bzip2 } from '../../src/release/bzip2';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
test('bz', () => {
  const cases: Uint8Array[] = [new Uint8Array(0), Buffer.from('a'), Buffer.from('aaaa'), Buffer.from('aaaab'.repeat(1000)), new Uint8Array(3_000_000), randomBytes(2_000_000), Buffer.from('hello world '.repeat(200000))];
  const mixed = Buffer.alloc(2_500_000); for (let i = 0; i < mixed.length; i++) mixed[i] = (i % 1000 < 500) ? 0 : (i * 7919) & 0xff; cases.push(mixed);
  for (const c of cases) {
    const t0 = Date.now();
    const z = bzip2(c);
    const dt = Date.now() - t0;
    const ref = execFileSync('bzip2', ['-9c'], { input: c, maxBuffer: 1 << 30 });
    const back = execFileSync('bzip2', ['-dc'], { input: z, maxBuffer: 1 << 30 });
    console.log(c.length, z.length, ref.length, dt + 'ms');
    expect(Buffer.compare(back, Buffer.from(c))).toBe(0);
  }
});
