/**
 * What `targets add` takes: files, directories (walked with the same rules as
 * release folders: no symlinks or special files, NFC names, no collisions) and
 * list files (`--from-file LIST`, `-` for stdin) — bulk input never goes
 * through argv, whose parsing is quadratic in oclif.
 *
 * A list line is `FILE` or `FILE<TAB>TARGETPATH`; empty lines and lines
 * starting with `#` are skipped. Relative FILEs are relative to the list's folder
 * (stdin: the current directory).
 */
import { basename, dirname, join, resolve } from 'node:path';
import { TufsignError } from '../errors';
import { pathKind, readFileBounded } from '../io/fs';
import { scanBundle } from '../release/scan';
import type { JsonObject } from '../tuf/json';
import type { TargetInput } from './targets';

const MAX_LIST_BYTES = 256 * 1024 * 1024;

function expandOne(
  file: string,
  targetPath: string | undefined,
  custom: JsonObject | undefined,
  out: TargetInput[],
): void {
  const kind = pathKind(file);
  if (kind === 'missing') throw new TufsignError('TARGET_NOT_FOUND', `${file} does not exist`, { file });
  const push = (f: string, p: string): void => {
    const input: TargetInput = { file: f, path: p };
    if (custom !== undefined) input.custom = custom;
    out.push(input);
  };
  if (kind === 'directory') {
    const prefix = targetPath === undefined ? '' : `${targetPath}/`;
    for (const m of scanBundle(file)) if (m.type === 'file') push(join(file, m.path), prefix + m.path);
    return;
  }
  if (kind !== 'file')
    throw new TufsignError('PATH_UNSAFE', `${file} is not a regular file or a directory`, {
      file,
      rule: 'BAD-46 regular files only',
    });
  push(file, targetPath ?? basename(file));
}

export function parseTargetList(text: string, baseDir: string, where: string): { file: string; path?: string }[] {
  const out: { file: string; path?: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split('\t');
    if (parts.length > 2 || parts[0] === '')
      throw new TufsignError('USAGE', `${where} line ${i + 1}: expected FILE or FILE<TAB>TARGETPATH`, {
        file: where,
        path: `line ${i + 1}`,
      });
    const entry: { file: string; path?: string } = { file: resolve(baseDir, parts[0] as string) };
    if (parts[1] !== undefined) entry.path = parts[1];
    out.push(entry);
  });
  return out;
}

export interface TargetSources {
  files: string[];
  /** `--path`: the target path of a single file (or the folder prefix of a single directory) */
  path?: string;
  custom?: JsonObject;
  /** `--from-file`: a list file, or '-' with `stdin` */
  fromFile?: string;
  stdin?: () => string;
  /** where relative entries of a list read from stdin are resolved (the caller's working directory) */
  cwd: string;
}

export function expandTargetSources(src: TargetSources): TargetInput[] {
  const out: TargetInput[] = [];
  if (src.path !== undefined && (src.files.length !== 1 || src.fromFile !== undefined)) {
    throw new TufsignError('USAGE', '--path works with exactly one file or folder', {
      rule: 'targets add FILE --path TARGETPATH',
    });
  }
  for (const f of src.files) expandOne(f, src.path, src.custom, out);
  if (src.fromFile !== undefined) {
    const fromStdin = src.fromFile === '-';
    const text = fromStdin
      ? (src.stdin?.() ?? '')
      : readFileBounded(resolve(src.cwd, src.fromFile), MAX_LIST_BYTES).toString('utf8');
    const base = fromStdin ? src.cwd : dirname(resolve(src.cwd, src.fromFile));
    for (const e of parseTargetList(text, base, fromStdin ? 'stdin' : src.fromFile))
      expandOne(e.file, e.path, src.custom, out);
  }
  return out;
}
