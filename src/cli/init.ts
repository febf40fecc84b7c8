/**
 * `init`: its flags, the interactive wizard (scheme and thresholds when no key flag is given), `--import`, and
 * the wiring of key plans, signers and the request for keyholders elsewhere. The command is flags + one call.
 */
import { Flags, type Interfaces } from '@oclif/core';
import { join } from 'node:path';
import { TufsignError } from '../errors';
import { parsePeriod, type Period } from '../tuf/time';
import { readTextFile } from '../io/fs';
import { importRepository, isImportFormat, IMPORT_FORMATS, type ImportOptions, type ImportReport } from '../import';
import { DEFAULT_EXPIRY } from '../repository/config';
import { initRepository, requestForInit } from '../repository/init';
import { planRoleKeys, withPreopenedSigners } from '../repository/key-specs';
import { rootKeyPolicyWithRoots } from '../repository/keys';
import type { OperationResult } from '../repository/outcome';
import type { RequestWritten } from '../repository/requests';
import { defaultRepositoryName } from '../repository/workspace';
import { isScheme, SCHEMES, type Scheme } from '../tuf/key';
import { TOP_LEVEL_ROLES, type TopLevelRole } from '../tuf/metadata';
import type { CommandIo } from './base-command';
import { renderRequest } from './ceremony';
import { thresholdFlag, thresholdOption, waitFlag, workspaceAliasFlag, workspaceFrom } from './flags';
import type { Threshold } from '../tuf/threshold';
import { renderImport } from './import-render';
import { offlineGenerationSecrets } from './key-secrets';
import { renderOperation } from './render';

const keyFlag = (role: string) =>
  Flags.string({
    description: `A ${role} key: a key URI (file:, pkcs11:, yubikey:) or a public key file from \`key export\`. Repeat for several keys.`,
    multiple: true,
  });
const roleThresholdFlag = (role: string) => thresholdFlag(`Signatures needed for ${role}.`);
const expiresFlag = (role: TopLevelRole) =>
  Flags.string({ description: `Expiry period for ${role} (e.g. ${DEFAULT_EXPIRY[role].text}).` });

export const initFlags = {
  workspace: workspaceAliasFlag,
  name: Flags.string({ description: 'Repository name (default: the directory name).' }),
  scheme: Flags.string({
    description: 'Signature scheme for generated keys.',
    options: [...SCHEMES],
    default: 'ed25519',
  }),
  'consistent-snapshot': Flags.boolean({
    description: 'Write consistent snapshots (versioned metadata, hash-prefixed targets).',
    default: true,
    allowNo: true,
  }),
  'root-key': keyFlag('root'),
  'targets-key': keyFlag('targets'),
  'snapshot-key': keyFlag('snapshot'),
  'timestamp-key': keyFlag('timestamp'),
  'root-threshold': roleThresholdFlag('root'),
  'targets-threshold': roleThresholdFlag('targets'),
  'snapshot-threshold': roleThresholdFlag('snapshot'),
  'timestamp-threshold': roleThresholdFlag('timestamp'),
  'root-expires': expiresFlag('root'),
  'targets-expires': expiresFlag('targets'),
  'snapshot-expires': expiresFlag('snapshot'),
  'timestamp-expires': expiresFlag('timestamp'),
  'require-attested-root-keys': Flags.boolean({
    description:
      'Policy: every root key must be an attested YubiKey key with touch policy "always" (checked before signing).',
    default: false,
  }),
  'attestation-ca': Flags.string({
    description: 'Extra trusted attestation root certificate (PEM) for the key policy.',
    multiple: true,
  }),
  'pkcs11-module': Flags.string({
    description: 'PKCS#11 module for pkcs11: keys without module-path (saved in tufsign.json).',
  }),
  wait: waitFlag,
  import: Flags.string({
    description:
      'Create the workspace from an existing repository folder (tufup, python-tuf, tuf-on-ci, go-tuf v0); see docs/migrating.md.',
  }),
  // no defaults here: oclif counts a default as "given" for dependsOn
  format: Flags.string({
    description: 'Format of the --import source (default: auto-detect).',
    options: ['auto', ...IMPORT_FORMATS],
    dependsOn: ['import'],
  }),
  'dry-run': Flags.boolean({ description: 'With --import: check and report, write nothing.', dependsOn: ['import'] }),
  'skip-missing-targets': Flags.boolean({
    description: 'With --import: import even when target files are absent (they are listed in the report).',
    dependsOn: ['import'],
  }),
  offline: Flags.string({
    description:
      'Roles whose keys are offline (default: root; "none" keeps every generated key under keys/): key files generated for them go to offline-keys/ under a passphrase of their own (--offline-passphrase-file, TUFSIGN_OFFLINE_PASSPHRASE or a prompt), and unattended runs never open them.',
    multiple: true,
    multipleNonGreedy: true,
    options: [...TOP_LEVEL_ROLES, 'none'],
  }),
  'offline-passphrase-file': Flags.string({
    description:
      'A 0600 file holding the new passphrase of the offline key files (default: TUFSIGN_OFFLINE_PASSPHRASE, else a prompt); it must differ from the online passphrase.',
  }),
  'request-out': Flags.string({
    description:
      'Where to write the signing request when root/targets v1 need keys that are not here (default: DIR/root-v1-targets-v1.tufsign-request.json).',
  }),
};
type InitFlags = Interfaces.InferredFlags<typeof initFlags>;

/** `--offline` values: root when none are given (ADR 0011), no role for `none`. */
export function offlineRolesOf(values: readonly string[] | undefined): Set<TopLevelRole> {
  if (values === undefined || values.length === 0) return new Set<TopLevelRole>(['root']);
  if (values.includes('none')) {
    if (values.length > 1)
      throw new TufsignError('USAGE', '--offline none cannot be combined with role names', {
        rule: '--offline ROLE… | --offline none',
      });
    return new Set();
  }
  const roles = new Set<TopLevelRole>();
  for (const v of values) {
    if (!(TOP_LEVEL_ROLES as readonly string[]).includes(v))
      throw new TufsignError('USAGE', `${JSON.stringify(v)} is not a top-level role`, {
        rule: `offline roles: ${TOP_LEVEL_ROLES.join(', ')} or none`,
      });
    roles.add(v as TopLevelRole);
  }
  return roles;
}

export async function runInit(
  io: CommandIo,
  flags: InitFlags,
  dirArg: string | undefined,
): Promise<(OperationResult & { request?: RequestWritten }) | ImportReport> {
  const dir = workspaceFrom(flags.workspace, dirArg, undefined);
  if (flags.import !== undefined) {
    const format = flags.format ?? 'auto';
    if (format !== 'auto' && !isImportFormat(format))
      throw new TufsignError('USAGE', `unknown format ${format}`, { rule: IMPORT_FORMATS.join(', ') });
    const options: ImportOptions = {
      dir,
      source: flags.import,
      format,
      dryRun: flags['dry-run'] === true,
      skipMissingTargets: flags['skip-missing-targets'] === true,
      now: io.ctx.clock.now(),
      secrets: io.ctx.secrets,
      shownFrom: process.cwd(),
    };
    if (flags.name !== undefined) options.name = flags.name;
    if (!options.dryRun) await io.lockWorkspace(dir, true);
    const report = await importRepository(options);
    io.log(renderImport(report));
    return report;
  }
  const schemeFlag = flags.scheme;
  if (!isScheme(schemeFlag))
    throw new TufsignError('USAGE', `unknown scheme ${schemeFlag}`, { rule: SCHEMES.join(', ') });
  let scheme: Scheme = schemeFlag;
  const thresholds = {} as Record<TopLevelRole, Threshold | undefined>;
  for (const role of TOP_LEVEL_ROLES) {
    const text = flags[`${role}-threshold`];
    thresholds[role] = text === undefined ? undefined : thresholdOption(text, `--${role}-threshold`);
  }
  const keyValues: Record<TopLevelRole, string[]> = {
    root: flags['root-key'] ?? [],
    targets: flags['targets-key'] ?? [],
    snapshot: flags['snapshot-key'] ?? [],
    timestamp: flags['timestamp-key'] ?? [],
  };
  const noChoicesGiven = TOP_LEVEL_ROLES.every((r) => keyValues[r].length === 0 && thresholds[r] === undefined);
  const prompter = io.ctx.prompter;
  let offlineRoles = offlineRolesOf(flags.offline);
  if (noChoicesGiven && prompter.interactive && !io.yes && !io.json) {
    scheme = await prompter.select(
      'Signature scheme for the new keys',
      SCHEMES.map((s) => ({ value: s, name: s })),
    );
    for (const role of TOP_LEVEL_ROLES) {
      const answer = await prompter.input(`How many ${role} keys must sign (threshold)?`, '1');
      thresholds[role] = thresholdOption(answer, `${role} threshold`);
    }
    if (flags.offline === undefined) {
      const answer = await prompter.input(
        'Which roles are offline (keys moved to their keyholders or YubiKeys; space-separated, or "none")?',
        'root',
      );
      offlineRoles = offlineRolesOf(answer.split(/[\s,]+/).filter((w) => w !== ''));
    }
  }

  await io.lockWorkspace(dir, true);
  const openOptions = io.ctx.openOptions(dir);
  const extraCas = (flags['attestation-ca'] ?? []).map((f) => readTextFile(f));
  if (extraCas.length > 0) openOptions.attestationRoots = extraCas;
  if (flags['pkcs11-module'] !== undefined) openOptions.pkcs11Module = flags['pkcs11-module'];
  const { roles, generated } = await planRoleKeys(keyValues, thresholds, scheme, openOptions, (m) => io.note(m), {
    roles: offlineRoles,
    secrets: offlineGenerationSecrets(io.ctx.env, io.ctx.prompter, io.ctx.secrets, flags['offline-passphrase-file']),
  });
  const expiry: Partial<Record<TopLevelRole, Period>> = {};
  for (const role of TOP_LEVEL_ROLES) {
    const e = flags[`${role}-expires`];
    if (e !== undefined) expiry[role] = parsePeriod(e, 'expiry');
  }
  const ctx = withPreopenedSigners(
    io.ctx.signingContext(dir, undefined, flags['pkcs11-module']),
    generated.map((g) => g.signer),
  );
  const options: Parameters<typeof initRepository>[0] = {
    dir,
    name: flags.name ?? defaultRepositoryName(dir),
    consistentSnapshot: flags['consistent-snapshot'],
    expiry,
    roles,
    extraFiles: generated.flatMap((g) => [
      { path: join(dir, g.path), data: g.pem, mode: 0o600 },
      { path: join(dir, g.publicPart.path), data: g.publicPart.data, mode: 0o600 },
    ]),
    deferIncomplete: true,
  };
  if (flags['pkcs11-module'] !== undefined) options.pkcs11Module = flags['pkcs11-module'];
  if (flags['require-attested-root-keys']) {
    options.rootKeyPolicy = rootKeyPolicyWithRoots(extraCas);
    options.persistRootKeyPolicy = { attestationRoots: extraCas };
  }
  const result = await initRepository(options, ctx);
  if (result.pending !== undefined) {
    // Root/targets v1 need keys held elsewhere: no unsigned metadata, a signing request instead.
    const request = requestForInit(result.workspace, result.pending, flags['request-out'], {
      now: ctx.now,
      tool: io.tool,
    });
    io.log(renderRequest(request));
    io.note(
      `workspace created in ${result.workspace}; carry ${request.request} to the keyholders, then: tufsign ceremony finalize REQUEST --bundle-out BUNDLE -w ${dir}`,
    );
    const { pending: _pending, ...rest } = result;
    return { ...rest, request };
  }
  io.log(renderOperation(result, dir));
  const offlineFiles = generated.filter((g) => g.spec.offline === true).map((g) => g.path);
  if (offlineFiles.length > 0) {
    io.note(
      `OFFLINE key files: ${offlineFiles.join(', ')} (their own passphrase). Move them to the keyholders' laptops or replace them with YubiKeys (tufsign key rotate / root rotate); this machine then holds only online keys.`,
    );
  }
  if (result.complete) io.note(`repository created in ${result.workspace}; next: tufsign targets add FILE -w ${dir}`);
  return result;
}
