#!/usr/bin/env node
/*
 * npm run package [-- --out DIR]: the standalone air-gap artifact (ADR 0012, docs/airgap-install.md).
 *
 * Writes into DIR (default artifacts/):
 *   tufsign-VERSION-linux-x64.tar.gz        one folder: the executable `tufsign`, lib/*.node, licenses/
 *   tufsign-VERSION-linux-x64.manifest.json what went in: commit, Node runtime, every bundled package
 *   SHA256SUMS                              the tarball and every file in it (sha256sum -c format)
 *
 * Offline: the bundler (esbuild) and injector (postject) come from node_modules, the runtime is the
 * Debian-packaged Node pinned in packaging/node-runtime.json and checked before use. Reproducible: every
 * timestamp is SOURCE_DATE_EPOCH (default: the commit time of HEAD), tar entries are sorted with fixed
 * owner and modes, gzip has no name or time, and no absolute build path reaches the bundle.
 */
'use strict';
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const PLATFORM = 'linux-x64';
/** The native addons: npm package, its compiled file, the name the executable loads from lib/. */
const ADDONS = [
  { pkg: 'pkcs11js', file: 'build/Release/pkcs11.node', name: 'pkcs11' },
  { pkg: 'pcsclite', file: 'build/Release/pcsclite.node', name: 'pcsclite' },
];
/** The modules that run in worker threads (src/release/workers.ts), embedded as ES module source. */
const WORKER_MODULES = ['worker'];

class BuildError extends Error {}

function fail(message) {
  throw new BuildError(message);
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const run = (cmd, args, options = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();

function parseArgs(argv) {
  const out = { out: path.join(ROOT, 'artifacts') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1] !== undefined) out.out = path.resolve(argv[++i]);
    else fail(`unknown argument ${JSON.stringify(argv[i])} (usage: npm run package [-- --out DIR])`);
  }
  return out;
}

/** The commit, whether tracked files differ from it, and the build time. */
function sourceState() {
  let commit;
  try {
    commit = run('git', ['rev-parse', 'HEAD'], { cwd: ROOT });
  } catch {
    fail('not a git checkout: the artifact records the commit it was built from');
  }
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }) !== '';
  const sde = process.env.SOURCE_DATE_EPOCH ?? run('git', ['log', '-1', '--format=%ct', 'HEAD'], { cwd: ROOT });
  if (!/^\d{1,11}$/.test(sde)) fail(`SOURCE_DATE_EPOCH must be a whole number of seconds, got ${JSON.stringify(sde)}`);
  return { commit, dirty, sourceDateEpoch: Number(sde) };
}

/** The pinned Node runtime, checked field by field against what is installed. */
function checkRuntime() {
  const pinFile = path.join(ROOT, 'packaging', 'node-runtime.json');
  const pin = readJson(pinFile);
  const where = 'packaging/node-runtime.json';
  if (!fs.existsSync(pin.path))
    fail(
      `${where}: ${pin.path} does not exist (install the Debian package ${pin.source.package} ${pin.source.version})`,
    );
  const binary = fs.readFileSync(pin.path);
  const actualSha = sha256(binary);
  if (actualSha !== pin.sha256)
    fail(
      `${where}: sha256 of ${pin.path} is ${actualSha}, pinned ${pin.sha256} — a different Node build; refusing to package it`,
    );
  let dpkg;
  try {
    dpkg = run('dpkg-query', ['-W', '-f=${Version} ${Architecture}', pin.source.package]);
  } catch {
    fail(`${where}: the Debian package ${pin.source.package} is not installed`);
  }
  if (dpkg !== `${pin.source.version} ${pin.source.architecture}`)
    fail(
      `${where}: installed ${pin.source.package} is ${dpkg}, pinned ${pin.source.version} ${pin.source.architecture}`,
    );
  // dpkg's own record of the file it unpacked: the binary was not changed after installation.
  const md5sums = fs.readFileSync(`/var/lib/dpkg/info/${pin.source.package}.md5sums`, 'utf8');
  const rel = pin.path.replace(/^\//, '');
  const line = md5sums.split('\n').find((l) => l.endsWith(`  ${rel}`));
  const md5 = createHash('md5').update(binary).digest('hex');
  if (line === undefined || !line.startsWith(`${md5}  `))
    fail(
      `${where}: ${pin.path} does not match dpkg's record for ${pin.source.package} (dpkg --verify ${pin.source.package})`,
    );
  const version = run(pin.path, ['--version']);
  if (version !== pin.node_version) fail(`${where}: ${pin.path} --version says ${version}, pinned ${pin.node_version}`);
  const fuse = binary.indexOf(Buffer.from(`${SEA_FUSE}:0`));
  if (fuse < 0 || binary.indexOf(Buffer.from(SEA_FUSE), fuse + 1) >= 0)
    fail(`${pin.path} has no single unflipped SEA fuse: it cannot become a single-executable application`);
  return {
    pin,
    binary,
    checked: [
      'sha256 pinned in packaging/node-runtime.json',
      'dpkg package version and architecture',
      "dpkg's md5sum of the installed file",
      '--version',
    ],
  };
}

/** Installed versions of Debian packages (the compiler and headers behind the native addons), for the manifest. */
function debianVersions(names) {
  const out = {};
  for (const name of names) {
    try {
      out[name] = run('dpkg-query', ['-W', '-f=${Version}', name]);
    } catch {
      out[name] = null;
    }
  }
  return out;
}

/** Lockfile entry (version, integrity, resolved, license) of the package whose folder is `dir` (relative to ROOT). */
function lockEntry(lock, dir) {
  const entry = lock.packages[dir];
  if (entry === undefined) fail(`package-lock.json has no entry for ${dir}`);
  if (entry.integrity === undefined) fail(`package-lock.json has no integrity for ${dir}`);
  return entry;
}

/** Package folder (relative, `node_modules/...`) of a bundled input path, or undefined for project sources. */
function packageDirOf(input) {
  const parts = input.split('/');
  let end = -1;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== 'node_modules') continue;
    end = parts[i + 1]?.startsWith('@') ? i + 3 : i + 2;
  }
  return end < 0 ? undefined : parts.slice(0, end).join('/');
}

function licenseFiles(dir) {
  return fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => /^(licen[cs]e|copying|notice)/i.test(f))
    .sort();
}

/** The bundle entry: every command file under src/commands, by oclif id, and the build facts. */
function entrySource(pkg, build, workers, addonDigests) {
  const commands = [];
  const walk = (dir, prefix) => {
    for (const name of fs.readdirSync(path.join(ROOT, dir)).sort()) {
      const full = path.join(dir, name);
      if (fs.statSync(path.join(ROOT, full)).isDirectory()) walk(full, [...prefix, name]);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        const base = name.slice(0, -3);
        const id = (base === 'index' ? prefix : [...prefix, base]).join(':');
        commands.push([id, `./${full.split(path.sep).join('/')}`]);
      }
    }
  };
  walk('src/commands', []);
  // tufsign's own `autocomplete` command only wraps plugin-autocomplete's cache builder: left out with the plugin.
  const leftOutCommands = new Set(['autocomplete']);
  commands.splice(0, commands.length, ...commands.filter(([id]) => !leftOutCommands.has(id)));
  // oclif loads plugins, hooks and a help class from files, which the executable does not have (ADR 0012).
  // The help plugin's one command is compiled in, so `tufsign help` works as `-h` and `--help` do. Shell
  // completion (plugin-autocomplete) and the did-you-mean hook are left out of the standalone build: an
  // air-gapped laptop has no use for completion scripts, and an unknown command stays a usage error there.
  // Anything else is refused, so that an artifact never silently lacks a part of the CLI.
  const compiledPluginCommands = {
    '@oclif/plugin-help': [['help', './node_modules/@oclif/plugin-help/lib/commands/help.js']],
  };
  const leftOutPlugins = new Set(['@oclif/plugin-autocomplete']);
  const leftOutHooks = new Set(['command_not_found']);
  for (const plugin of pkg.oclif.plugins ?? []) {
    if (compiledPluginCommands[plugin] !== undefined) commands.push(...compiledPluginCommands[plugin]);
    else if (!leftOutPlugins.has(plugin))
      fail(
        `package.json oclif.plugins: ${plugin} is not compiled into the standalone build; add it in scripts/package.js (ADR 0012)`,
      );
  }
  for (const hook of Object.keys(pkg.oclif.hooks ?? {})) {
    if (!leftOutHooks.has(hook))
      fail(
        `package.json oclif.hooks.${hook}: the standalone build does not run hooks; add support in src/standalone/main.ts (ADR 0012)`,
      );
  }
  for (const key of ['devPlugins', 'helpClass']) {
    if (pkg.oclif[key] !== undefined)
      fail(
        `package.json oclif.${key}: the standalone build compiles in commands only; add support in src/standalone/main.ts (ADR 0012)`,
      );
  }
  const { plugins: _plugins, hooks: _hooks, ...standaloneOclif } = pkg.oclif;
  const pjson = { name: pkg.name, version: pkg.version, description: pkg.description, oclif: standaloneOclif };
  return [
    "const { runStandalone } = require('./src/standalone/main');",
    'const commands = {',
    ...commands.map(
      ([id, file]) => `  ${JSON.stringify(id)}: require(${JSON.stringify(file.replace(/\.ts$/, ''))}).default,`,
    ),
    '};',
    `runStandalone({ build: ${JSON.stringify(build)}, pjson: ${JSON.stringify(pjson)}, commands, workers: ${JSON.stringify(workers)}, addons: ${JSON.stringify(addonDigests)} })`,
    '  .catch((e) => { process.stderr.write(`tufsign: ${e && e.stack ? e.stack : e}\\n`); process.exitCode = 1; });',
    '',
  ].join('\n');
}

/**
 * The SEA's `require` loads built-in modules only and warns on anything else. The bundle's own `require`
 * says so plainly: a non-built-in id is MODULE_NOT_FOUND (the code paths that probe for optional packages
 * already handle that), and there is no `require.resolve` into the file system.
 */
const REQUIRE_GUARD = `var require = ((embedded) => {
  const { isBuiltin } = embedded('node:module');
  const notFound = (id) => Object.assign(new Error(\`Cannot find module '\${id}': the standalone tufsign loads no JavaScript from disk\`), { code: 'MODULE_NOT_FOUND' });
  const guarded = (id) => {
    if (typeof id !== 'string' || !isBuiltin(id)) throw notFound(id);
    return embedded(id);
  };
  guarded.resolve = (id) => {
    if (typeof id === 'string' && isBuiltin(id)) return id;
    throw notFound(id);
  };
  return guarded;
})(require);`;

/** esbuild plugin: the addons' `require('./build/Release/x.node')` and `require('bindings')('x')` load lib/x.node beside the executable. */
const addonPlugin = {
  name: 'tufsign-addons',
  setup(build) {
    const loader = path.join(ROOT, 'src', 'standalone', 'addons.ts');
    build.onResolve({ filter: /\.node$/ }, (a) => ({ path: path.basename(a.path, '.node'), namespace: 'addon' }));
    build.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'addon' }));
    build.onLoad({ filter: /.*/, namespace: 'addon' }, (a) => ({
      contents:
        a.path === 'bindings'
          ? `const { loadAddon } = require(${JSON.stringify(loader)}); module.exports = (name) => loadAddon(String(name).replace(/\\.node$/, ''));`
          : `const { loadAddon } = require(${JSON.stringify(loader)}); module.exports = loadAddon(${JSON.stringify(a.path)});`,
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

async function bundle(pkg, build, addonDigests) {
  const esbuild = require('esbuild');
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'silent',
    charset: 'utf8',
    legalComments: 'eof',
  };
  const workers = {};
  // Workers are ES modules: the executable starts them from a data: URL (src/release/workers.ts), never with eval.
  for (const name of WORKER_MODULES) {
    const r = await esbuild.build({ ...common, format: 'esm', entryPoints: [`src/release/${name}.ts`] });
    workers[name] = r.outputFiles[0].text;
  }
  const r = await esbuild.build({
    ...common,
    keepNames: true,
    // oclif's development paths (TypeScript sources, ts-node, Yarn PnP) are never taken in the executable.
    external: ['typescript', 'ts-node', 'tsx', 'pnpapi'],
    banner: { js: REQUIRE_GUARD },
    metafile: true,
    stdin: {
      contents: entrySource(pkg, build, workers, addonDigests),
      resolveDir: ROOT,
      sourcefile: 'standalone-entry.js',
      loader: 'js',
    },
    plugins: [addonPlugin],
  });
  const code = r.outputFiles[0].text;
  if (code.includes(ROOT))
    fail(`the bundle contains the build folder ${ROOT}: the artifact would depend on where it was built`);
  return { code, inputs: Object.keys(r.metafile.inputs), esbuildVersion: esbuild.version };
}

/** Every npm package whose code is in the bundle, from esbuild's list of inputs and package-lock.json. */
function bundledPackages(inputs, lock) {
  const dirs = new Set();
  for (const input of inputs) {
    const dir = packageDirOf(input);
    if (dir !== undefined) dirs.add(dir);
  }
  for (const a of ADDONS) dirs.add(`node_modules/${a.pkg}`);
  return [...dirs].sort().map((dir) => {
    const pj = readJson(path.join(ROOT, dir, 'package.json'));
    const entry = lockEntry(lock, dir);
    if (entry.version !== pj.version)
      fail(`${dir}: installed ${pj.version}, package-lock.json says ${entry.version} (run npm ci)`);
    const licenses = licenseFiles(dir);
    if (licenses.length === 0) fail(`${dir} ships no LICENSE file: its licence cannot be bundled`);
    return {
      dir,
      name: pj.name,
      version: pj.version,
      integrity: entry.integrity,
      resolved: entry.resolved,
      license: entry.license ?? pj.license,
      licenses,
    };
  });
}

/** ustar header for one member; every field that could vary between machines is fixed. */
function tarHeader(name, size, mode, type, mtime) {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155)
      fail(`tar member name too long: ${name}`);
  }
  const put = (value, offset, length) => h.write(value, offset, length, 'utf8');
  const octal = (n, length) => n.toString(8).padStart(length - 1, '0');
  put(base, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put('ustar\u000000', 257, 8);
  put('root', 265, 32);
  put('root', 297, 32);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${octal(sum, 7)}\u0000 `, 148, 8);
  return h;
}

/** The folder as a tar: members sorted by name, owner root, modes 0755/0644, mtime SOURCE_DATE_EPOCH. */
function tarFolder(stage, top, mtime) {
  const members = [];
  const walk = (rel) => {
    const full = path.join(stage, rel);
    const st = fs.statSync(full);
    if (st.isDirectory()) {
      members.push({ name: `${rel}/`, type: '5', mode: 0o755, data: Buffer.alloc(0) });
      for (const child of fs.readdirSync(full)) walk(`${rel}/${child}`);
    } else members.push({ name: rel, type: '0', mode: st.mode & 0o100 ? 0o755 : 0o644, data: fs.readFileSync(full) });
  };
  walk(top);
  members.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const parts = [];
  for (const m of members) {
    parts.push(
      tarHeader(m.name, m.data.length, m.mode, m.type, mtime),
      m.data,
      Buffer.alloc((512 - (m.data.length % 512)) % 512),
    );
  }
  parts.push(Buffer.alloc(1024));
  const body = Buffer.concat(parts);
  return { tar: Buffer.concat([body, Buffer.alloc((10240 - (body.length % 10240)) % 10240)]), members };
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const pkg = readJson(path.join(ROOT, 'package.json'));
  const lock = readJson(path.join(ROOT, 'package-lock.json'));
  const source = sourceState();
  const runtime = checkRuntime();
  const build = { version: pkg.version, commit: source.commit.slice(0, 12) + (source.dirty ? '-dirty' : '') };
  const top = `tufsign-${pkg.version}-${PLATFORM}`;
  const work = fs.mkdtempSync(
    path.join(fs.existsSync(out) ? out : (fs.mkdirSync(out, { recursive: true }), out), '.build-'),
  );
  try {
    const stage = path.join(work, top);
    fs.mkdirSync(path.join(stage, 'lib'), { recursive: true });

    // 1. The compiled addons, beside the executable; their hashes are compiled in and checked before loading.
    const addons = ADDONS.map((a) => {
      const from = path.join(ROOT, 'node_modules', a.pkg, a.file);
      if (!fs.existsSync(from))
        fail(
          `${path.relative(ROOT, from)} is missing: build the native modules first (npm_config_nodedir=/usr npm ci)`,
        );
      const data = fs.readFileSync(from);
      fs.writeFileSync(path.join(stage, 'lib', `${a.name}.node`), data, { mode: 0o644 });
      return { package: a.pkg, file: `lib/${a.name}.node`, sha256: sha256(data) };
    });
    const addonDigests = Object.fromEntries(addons.map((a, i) => [ADDONS[i].name, a.sha256]));

    // 2. One JavaScript file: the CLI, its npm dependencies, the worker sources, the addon loaders.
    const { code, inputs, esbuildVersion } = await bundle(pkg, build, addonDigests);
    const packages = bundledPackages(inputs, lock);
    fs.writeFileSync(path.join(work, 'tufsign.js'), code);

    // 3. The single-executable blob, made by the pinned runtime, injected into a copy of it.
    // Relative paths: the blob records the main script's name, which must not depend on the build folder.
    const seaConfig = {
      main: 'tufsign.js',
      output: 'sea.blob',
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    };
    fs.writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(seaConfig));
    run(runtime.pin.path, ['--experimental-sea-config', 'sea-config.json'], { cwd: work });
    const blob = fs.readFileSync(path.join(work, seaConfig.output));
    if (blob.includes(Buffer.from(work))) fail(`the SEA blob records the build folder ${work}`);
    const exe = path.join(stage, 'tufsign');
    fs.writeFileSync(exe, runtime.binary, { mode: 0o755 });
    const postject = require('postject');
    const saved = { log: console.log, warn: console.warn, error: console.error };
    // postject narrates every step, and its ELF library warns about Node's unnamed note sections.
    console.log = console.warn = console.error = () => undefined;
    try {
      await postject.inject(exe, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE });
    } finally {
      Object.assign(console, saved);
    }
    fs.chmodSync(exe, 0o755);

    // 4. Every licence.
    const index = [
      `Licences of everything in this folder (tufsign ${pkg.version}, ${pkg.license}).`,
      '',
      `node ${runtime.pin.node_version} (the runtime inside ./tufsign): node/LICENSE`,
    ];
    fs.mkdirSync(path.join(stage, 'licenses', 'node'), { recursive: true });
    fs.copyFileSync(
      path.join('/usr/share/doc', runtime.pin.source.package, 'LICENSE'),
      path.join(stage, 'licenses', 'node', 'LICENSE'),
    );
    for (const p of packages) {
      const to = path.join(stage, 'licenses', p.name);
      fs.mkdirSync(to, { recursive: true });
      for (const f of p.licenses) fs.copyFileSync(path.join(ROOT, p.dir, f), path.join(to, f));
      index.push(
        `${p.name} ${p.version} (${typeof p.license === 'string' ? p.license : JSON.stringify(p.license)}): ${p.licenses.map((f) => `${p.name}/${f}`).join(', ')}`,
      );
    }
    fs.writeFileSync(path.join(stage, 'licenses', 'README.txt'), `${index.join('\n')}\n`);

    // 5. The tarball, its sums, the manifest.
    const { tar, members } = tarFolder(work, top, source.sourceDateEpoch);
    const gz = zlib.gzipSync(tar, { level: 9 });
    const tarball = `${top}.tar.gz`;
    const files = members
      .filter((m) => m.type === '0')
      .map((m) => ({
        path: m.name,
        size: m.data.length,
        mode: m.mode.toString(8).padStart(4, '0'),
        sha256: sha256(m.data),
      }));
    const sums = [`${sha256(gz)}  ${tarball}`, ...files.map((f) => `${f.sha256}  ${f.path}`)].join('\n') + '\n';
    const tool = (name) => {
      const entry = lockEntry(lock, `node_modules/${name}`);
      return { name, version: entry.version, integrity: entry.integrity };
    };
    const manifest = {
      format: 'tufsign-standalone-manifest/1',
      tufsign: {
        version: pkg.version,
        commit: source.commit,
        dirty: source.dirty,
        source_date_epoch: source.sourceDateEpoch,
        platform: PLATFORM,
      },
      artifact: {
        file: tarball,
        sha256: sha256(gz),
        size: gz.length,
        folder: top,
        executable_sha256: sha256(fs.readFileSync(exe)),
        files,
      },
      runtime: {
        name: 'node',
        version: runtime.pin.node_version,
        sha256: runtime.pin.sha256,
        size: runtime.binary.length,
        source: runtime.pin.source,
        pinned_in: 'packaging/node-runtime.json',
        checked: runtime.checked,
      },
      sea: { blob_sha256: sha256(blob), sentinel_fuse: SEA_FUSE, use_code_cache: false, use_snapshot: false },
      native_addons: {
        built_by: "npm ci (node-gyp) against the runtime's headers",
        toolchain: debianVersions(['g++', 'libpcsclite-dev', runtime.pin.source.package]),
        files: addons,
      },
      bundled_packages: packages.map((p) => ({
        name: p.name,
        version: p.version,
        integrity: p.integrity,
        resolved: p.resolved,
        license: p.license,
      })),
      build_tools: {
        bundler: { ...tool('esbuild'), running: esbuildVersion },
        injector: tool('postject'),
        packaging_node: process.version,
      },
    };
    const write = (name, data) => {
      fs.writeFileSync(path.join(work, name), data);
      fs.renameSync(path.join(work, name), path.join(out, name));
    };
    write(tarball, gz);
    write(`${top}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
    write('SHA256SUMS', sums);
    process.stderr.write(
      `tufsign: wrote ${path.join(out, tarball)} (${(gz.length / 1048576).toFixed(1)} MiB, ${packages.length} npm packages)\n`,
    );
    process.stdout.write(`${sha256(gz)}  ${tarball}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`package: ${e instanceof BuildError ? e.message : e.stack}\n`);
  process.exit(1);
});
