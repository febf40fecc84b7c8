/**
 * Entry of the standalone executable (bundled by scripts/package.js into a
 * Node single-executable application, ADR 0012). oclif normally finds its
 * commands as files next to package.json; the executable has neither, so the
 * command table, the oclif settings from package.json and the worker sources
 * are compiled in and handed to oclif here.
 */
import { dirname } from 'node:path';
import { execute, Plugin, type Command, type Interfaces } from '@oclif/core';
import { setExecutableDigest } from '../ceremony/transcript';
import { executableSha256 } from '../io/executable';
import { embeddedWorkerSources } from '../release/workers';

export interface BuildInfo {
  version: string;
  commit: string;
}

export interface StandaloneProgram {
  build: BuildInfo;
  /** package.json's name, version and `oclif` section */
  pjson: Interfaces.PJSON;
  /** command id (oclif form, `key:generate`) → command class */
  commands: Record<string, Command.Class>;
  /** worker module name → its bundled CommonJS source */
  workers: Record<string, string>;
}

/** The root plugin, with oclif's explicit command strategy served from memory instead of a file. */
class BundledPlugin extends Plugin {
  constructor(root: string, pjson: Interfaces.PJSON, commands: Record<string, Command.Class>) {
    super({ root, pjson, isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
    // oclif reads the explicit strategy's table from `target` once and caches it here; the table is already in memory.
    Object.assign(this, { commandCache: commands });
  }
}

/** `tufsign --version` of the standalone build: oclif's first three words, then what the artifact is. */
export function standaloneUserAgent(build: BuildInfo, nodeVersion: string): string {
  return `tufsign/${build.version} ${process.platform}-${process.arch} node-${nodeVersion} standalone commit ${build.commit}`;
}

export async function runStandalone(program: StandaloneProgram): Promise<void> {
  for (const [name, code] of Object.entries(program.workers)) embeddedWorkerSources.set(name, code);
  // Read lazily: hashing the executable costs a read of the whole file, needed only when a ceremony event is written.
  setExecutableDigest(executableSha256);
  const pjson: Interfaces.PJSON = {
    ...program.pjson,
    oclif: {
      ...program.pjson.oclif,
      commands: { strategy: 'explicit', target: '(compiled in)', identifier: 'COMMANDS' },
    },
  };
  const args = process.argv.slice(2);
  // oclif answers --version from a user agent it rebuilds on every load; the standalone one also names the commit.
  if (['--version', ...(pjson.oclif.additionalVersionFlags ?? [])].includes(args[0] ?? '')) {
    process.stdout.write(`${standaloneUserAgent(program.build, process.version)}\n`);
    return;
  }
  const root = dirname(process.execPath);
  const plugin = new BundledPlugin(root, pjson, program.commands);
  await plugin.load();
  await execute({ args, loadOptions: { root, pjson, plugins: new Map([[plugin.name, plugin]]) } });
}
