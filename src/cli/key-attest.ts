/** `key attest`: a key file, a live yubikey: slot or an auditor's raw certificates checked against Yubico's CA and a policy. */
import { Flags, type Interfaces } from '@oclif/core';
import { TufsignError } from '../errors';
import { attestKey, type AttestResult, type AttestSource } from '../repository/keys';
import type { CommandIo } from './base-command';
import { safeText } from './safe-text';

export const keyAttestFlags = {
  policy: Flags.string({
    description: 'Also check a key policy.',
    options: ['attested', 'root'],
    default: 'attested',
  }),
  'attestation-ca': Flags.string({
    description: 'Extra trusted attestation root certificate (PEM), for key files and live devices alike.',
    multiple: true,
  }),
  'key-cert': Flags.string({
    description: 'The slot attestation certificate (`yubico-piv-tool -a attest`), PEM or DER.',
    dependsOn: ['device-cert'],
    exclusive: ['key'],
  }),
  'device-cert': Flags.string({
    description: 'The device attestation certificate (slot f9), PEM or DER.',
    dependsOn: ['key-cert'],
  }),
  intermediate: Flags.string({
    description: 'An intermediate CA certificate between the device certificate and the root (repeatable).',
    multiple: true,
    dependsOn: ['key-cert'],
  }),
  serial: Flags.integer({ description: 'The YubiKey serial the key must have been attested by.', min: 0 }),
};

export async function runKeyAttest(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof keyAttestFlags>,
  args: { key?: string | undefined },
): Promise<AttestResult> {
  let source: AttestSource;
  if (flags['key-cert'] !== undefined && flags['device-cert'] !== undefined) {
    source = {
      kind: 'certs',
      keyCert: flags['key-cert'],
      deviceCert: flags['device-cert'],
      intermediates: flags.intermediate ?? [],
    };
  } else if (args.key !== undefined) {
    source = { kind: 'key', value: args.key };
  } else {
    throw new TufsignError('USAGE', 'name a public key file or yubikey: URI, or give --key-cert and --device-cert', {
      rule: 'key attest KEY | --key-cert F --device-cert F',
    });
  }
  const options: Parameters<typeof attestKey>[2] = {
    policy: flags.policy === 'root' ? 'root' : 'attested',
    caFiles: flags['attestation-ca'] ?? [],
    now: io.ctx.clock.now(),
  };
  if (flags.serial !== undefined) options.serial = flags.serial;
  const r = await attestKey(source, io.ctx.openOptions(process.cwd()), options);
  for (const line of renderAttestation(r)) io.log(line);
  if (!r.ok)
    throw new TufsignError(
      'POLICY_VIOLATION',
      `the key does not meet the ${flags.policy} policy: ${r.violations.join('; ')}`,
      {
        file: args.key ?? flags['key-cert'],
        rule: 'BAD-58 root keys must be attested YubiKey keys with touch always',
        details: { result: r },
      },
    );
  return r;
}

/**
 * The report's lines. Subjects, firmware and form factor come from certificates a key file carries (and, under an
 * extra `--attestation-ca`, from whoever holds that CA): shown escaped, never raw on the terminal.
 */
export function renderAttestation(r: AttestResult): string[] {
  const lines: string[] = [];
  if (r.facts !== null) {
    const f = r.facts;
    const show = (k: string): string =>
      typeof f[k] === 'string' || typeof f[k] === 'number' ? safeText(String(f[k])) : '?';
    lines.push(
      `keyid ${r.keyid ?? '(no TUF scheme for this key type)'}: attested YubiKey ${show('serial')}, firmware ${show('firmware')}, slot ${show('slot')}, PIN policy ${show('pinPolicy')}, touch policy ${show('touchPolicy')}, form factor ${show('formFactor')}`,
    );
    lines.push(`  chain: ${r.chain.map(safeText).join(', issued by ')}`);
  }
  for (const v of r.violations) lines.push(`  ✗ ${safeText(v)}`);
  lines.push(r.ok ? 'attestation verified' : 'attestation verified, but the key does not meet the policy');
  return lines;
}
