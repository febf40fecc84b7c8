import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Ajv from 'ajv';
import { addSignatures, mergeRequests, parseRequest, requestToJSON } from '../../src/ceremony';
import { buildBundle, deterministicTarGz, loadItems, parseManifest, readTarGz } from '../../src/bundle';
import { delegatedScenario, NOW, rotation, sigOver, TOOL } from './fixtures';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'signing-request.schema.json'), 'utf8'));

describe('signing request JSON Schema', () => {
  test('requests the code writes validate against the published schema', () => {
    const ajv = new Ajv({ allErrors: true });
    const validate = ajv.compile(schema);
    const s = rotation();
    const a = addSignatures(
      s.request,
      [{ role: 'root', keyid: s.old[0]!.keyid, signature: sigOver(s.old[0]!, s.next.signedBytes()) }],
      { now: NOW, tool: TOOL },
    ).request;
    const b = addSignatures(
      s.request,
      [{ role: 'root', keyid: s.fresh[0]!.keyid, signature: sigOver(s.fresh[0]!, s.next.signedBytes()) }],
      { now: NOW, tool: TOOL },
    ).request;
    const merged = mergeRequests(
      [
        { request: a, label: 'a' },
        { request: b, label: 'b' },
      ],
      { now: NOW, tool: TOOL },
    ).request;
    for (const r of [s.request, a, merged]) {
      const doc = JSON.parse(JSON.stringify(requestToJSON(r)));
      expect(validate(doc)).toBe(true);
    }
    expect(validate({ ...JSON.parse(JSON.stringify(requestToJSON(s.request))), extra: true })).toBe(false);
    // version 1 (fingerprint without the diff bases, no root chain) is no longer valid
    expect(validate({ ...JSON.parse(JSON.stringify(requestToJSON(s.request))), format_version: 1 })).toBe(false);
    const { root_history: _h, ...noHistory } = JSON.parse(JSON.stringify(requestToJSON(s.request)));
    expect(validate(noHistory)).toBe(false);
    // format 3: delegated roles and their delegating chain (a chain only there)
    const delegated = JSON.parse(JSON.stringify(requestToJSON(delegatedScenario().request)));
    expect(validate(delegated)).toBe(true);
    expect(validate({ ...delegated, format_version: 2 })).toBe(false);
    const { delegators: _d, ...noChain } = delegated;
    expect(validate(noChain)).toBe(false);
  });

  test('an older request format is refused with its own code and advice, not misread', () => {
    const doc = JSON.parse(JSON.stringify(requestToJSON(rotation().request)));
    for (const v of [1, 4]) {
      expect(() => parseRequest(Buffer.from(JSON.stringify({ ...doc, format_version: v })), 'old.json')).toThrow(
        expect.objectContaining({ code: 'REQUEST_FORMAT_UNSUPPORTED', file: 'old.json' }),
      );
    }
  });
});

describe('bundle tarball', () => {
  const files = [
    { path: 'metadata/2.root.json', data: Buffer.from('{"root":2}'), new: true },
    { path: 'targets/' + 'a'.repeat(64) + '.app.tar.gz', data: Buffer.alloc(1500, 7), new: true },
    { path: 'metadata/timestamp.json', data: Buffer.from('{}'), new: true },
  ];

  test('is byte-for-byte deterministic whatever the input order, with fixed headers', () => {
    const one = buildBundle({ repository: 'r', base: { root: 1 }, files, transcript: [] });
    const two = buildBundle({ repository: 'r', base: { root: 1 }, files: [...files].reverse(), transcript: [] });
    const t1 = deterministicTarGz(one.entries);
    const t2 = deterministicTarGz(two.entries);
    expect(t1.equals(t2)).toBe(true);
    expect(t1.readUInt32LE(4)).toBe(0);
    expect(t1[9]).toBe(0xff);
    const tar = gunzipSync(t1);
    // first header: mode 0644, uid/gid 0, mtime 0, ustar
    expect(tar.subarray(100, 107).toString()).toBe('0000644');
    expect(tar.subarray(136, 147).toString()).toBe('00000000000');
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    const back = readTarGz(t1);
    expect(back.map((e) => e.path)).toEqual([
      'BUNDLE.json',
      'TRANSCRIPT.json',
      'metadata/2.root.json',
      'metadata/timestamp.json',
      files[1]!.path,
    ]);
    expect(Buffer.from(back.find((e) => e.path === files[1]!.path)!.data).equals(files[1]!.data)).toBe(true);
  });

  test('the manifest lists every file with length and sha256, and the root chain', () => {
    const { manifest, entries } = buildBundle({ repository: 'r', base: { root: 1 }, files, transcript: [] });
    const parsed = parseManifest(loadItems(entries).find((e) => e.path === 'BUNDLE.json')!.data);
    expect(parsed.files.map((f) => [f.path, f.length])).toEqual(manifest.files.map((f) => [f.path, f.length]));
    expect(parsed.rootChain.map((r) => r.version)).toEqual([2]);
    expect(() =>
      buildBundle({ repository: 'r', base: {}, files: [{ path: '../evil', data: Buffer.alloc(0), new: true }] }),
    ).toThrow(expect.objectContaining({ code: 'BUNDLE_INVALID' }));
  });
});
