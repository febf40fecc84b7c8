import { suffixArray, sortRotations } from '../../src/release/sais';
test('sa', () => {
  for (let iter = 0; iter < 3000; iter++) {
    const n = Math.floor(Math.random() * 60);
    const k = 1 + Math.floor(Math.random() * 4);
    const s = new Uint8Array(n); for (let i = 0; i < n; i++) s[i] = Math.floor(Math.random() * k) * 50;
    const sa = Array.from(suffixArray(s));
    const naive = [...Array(n).keys()].sort((a, b) => Buffer.compare(Buffer.from(s.subarray(a)), Buffer.from(s.subarray(b))));
    expect(sa).toEqual(naive);
    if (n > 0) {
      const out = new Int32Array(n); sortRotations(s, n, new Uint8Array(2*n), new Int32Array(2*n), out);
      const rot = (i: number) => Buffer.concat([Buffer.from(s.subarray(i)), Buffer.from(s.subarray(0, i))]);
      for (let i = 1; i < n; i++) expect(Buffer.compare(rot(out[i-1]!), rot(out[i]!))).toBeLessThanOrEqual(0);
    }
  }
});
