/** Which PKCS#11 library to load: from the URI, the workspace config, the environment, or well-known places. */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { TufsignError } from '../../errors';
import type { Pkcs11Uri } from './uri';

export type ModuleSource = 'uri' | 'request' | 'config' | 'env' | 'well-known';

export interface ModuleChoice {
  path: string;
  source: ModuleSource;
}

export interface ModuleOptions {
  baseDir: string;
  env: NodeJS.ProcessEnv;
  pkcs11Module?: string | undefined;
}

function multiarch(): string[] {
  if (process.platform !== 'linux') return [];
  const triplet =
    process.arch === 'arm64'
      ? 'aarch64-linux-gnu'
      : process.arch === 'x64'
        ? 'x86_64-linux-gnu'
        : process.arch === 'arm'
          ? 'arm-linux-gnueabihf'
          : undefined;
  return triplet === undefined ? [] : [`/usr/lib/${triplet}`];
}

export function libraryDirs(): string[] {
  const dirs = [...multiarch(), '/usr/lib', '/usr/lib64', '/usr/local/lib', '/opt/homebrew/lib'];
  return dirs.flatMap((d) => [d, join(d, 'pkcs11'), join(d, 'softhsm')]);
}

/** Modules tufsign looks for when listing devices; the first existing path of each counts. */
export const WELL_KNOWN_MODULES: readonly { name: string; files: readonly string[] }[] = [
  { name: 'SoftHSM2', files: ['libsofthsm2.so', 'libsofthsm2.dylib'] },
  { name: 'Yubico YubiKey (ykcs11)', files: ['libykcs11.so', 'libykcs11.dylib'] },
  { name: 'OpenSC smart cards', files: ['opensc-pkcs11.so', 'opensc-pkcs11.dylib'] },
  { name: 'YubiHSM 2', files: ['yubihsm_pkcs11.so', 'yubihsm_pkcs11.dylib'] },
];

function findInLibraryDirs(files: readonly string[]): string | undefined {
  for (const dir of libraryDirs()) {
    for (const f of files) {
      const p = join(dir, f);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

export function wellKnownModules(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const m of WELL_KNOWN_MODULES) {
    const p = findInLibraryDirs(m.files);
    if (p !== undefined) out.push({ name: m.name, path: p });
  }
  return out;
}

function byName(name: string, dir: string | undefined): string {
  if (!/^[A-Za-z0-9._+-]+$/.test(name)) {
    throw new TufsignError('KEY_URI_INVALID', `module-name "${name}" is not a plain library name`, {
      rule: 'RFC 7512 module-name',
      suggestion: 'Use module-path=/absolute/path/to/module.so instead.',
    });
  }
  const files = [name, `${name}.so`, `lib${name}.so`, `${name}.dylib`, `lib${name}.dylib`];
  const found =
    dir === undefined ? findInLibraryDirs(files) : files.map((f) => join(dir, f)).find((p) => existsSync(p));
  if (found === undefined) {
    throw new TufsignError(
      'MODULE_LOAD_FAILED',
      `no PKCS#11 module named "${name}" was found${dir === undefined ? ' in the usual library folders' : ` in ${dir}`}`,
      {
        rule: 'RFC 7512 module-name',
        suggestion: 'Give the full path with module-path=/path/to/module.so in the URI, or set TUFSIGN_PKCS11_MODULE.',
      },
    );
  }
  return found;
}

/** module-path from the URI, else the workspace config, else TUFSIGN_PKCS11_MODULE. */
export function chooseModule(uri: Pkcs11Uri, options: ModuleOptions, explicit?: string): ModuleChoice {
  if (explicit !== undefined && explicit !== '')
    return { path: isAbsolute(explicit) ? explicit : resolve(options.baseDir, explicit), source: 'request' };
  if (uri.modulePath !== undefined) {
    if (!isAbsolute(uri.modulePath)) {
      throw new TufsignError(
        'KEY_URI_INVALID',
        `module-path "${uri.modulePath}" in a pkcs11: URI is not an absolute path`,
        {
          rule: 'RFC 7512 module-path is absolute',
          suggestion: 'Write the full path, e.g. module-path=/usr/lib/softhsm/libsofthsm2.so.',
        },
      );
    }
    // RFC 7512 allows module-path to be a directory that module-name is looked up in.
    const isDir = existsSync(uri.modulePath) && statSync(uri.modulePath).isDirectory();
    if (isDir && uri.moduleName !== undefined) return { path: byName(uri.moduleName, uri.modulePath), source: 'uri' };
    return { path: uri.modulePath, source: 'uri' };
  }
  if (uri.moduleName !== undefined) return { path: byName(uri.moduleName, undefined), source: 'uri' };
  if (options.pkcs11Module !== undefined && options.pkcs11Module !== '') {
    return {
      path: isAbsolute(options.pkcs11Module) ? options.pkcs11Module : resolve(options.baseDir, options.pkcs11Module),
      source: 'config',
    };
  }
  const env = options.env['TUFSIGN_PKCS11_MODULE'];
  if (env !== undefined && env !== '')
    return { path: isAbsolute(env) ? env : resolve(options.baseDir, env), source: 'env' };
  const known = wellKnownModules();
  throw new TufsignError('MODULE_LOAD_FAILED', 'no PKCS#11 module is configured for this pkcs11: key', {
    rule: 'module from module-path=, tufsign.json pkcs11Module, or TUFSIGN_PKCS11_MODULE',
    suggestion:
      known.length > 0
        ? `Name the module: ?module-path=… in the URI, --pkcs11-module, pkcs11_module in tufsign.json, or TUFSIGN_PKCS11_MODULE. Modules found on this machine: ${known.map((k) => k.path).join(', ')}.`
        : "Install your token's PKCS#11 library, then name it: ?module-path=… in the URI, --pkcs11-module, pkcs11_module in tufsign.json, or TUFSIGN_PKCS11_MODULE.",
    details: { found: known.map((k) => k.path) },
  });
}

/** Same library under two names (symlinks) counts once. */
export function moduleIdentity(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
