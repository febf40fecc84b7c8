/** `devices`: the YubiKeys and PKCS#11 tokens this machine can see. */
import { Flags, type Interfaces } from '@oclif/core';
import type { DeviceReport } from '../keystore/backend';
import { BACKENDS } from '../keystore/registry';
import { renderDevices } from './render';
import type { CommandIo } from './base-command';

export const devicesFlags = {
  'pkcs11-module': Flags.string({
    description: 'Also look at this PKCS#11 module.',
    multiple: true,
    aliases: ['module'],
    deprecateAliases: true,
  }),
};

export async function runDevices(
  io: CommandIo,
  flags: Interfaces.InferredFlags<typeof devicesFlags>,
): Promise<{ backends: DeviceReport[] }> {
  const reports: DeviceReport[] = [];
  // YubiKeys first: PKCS#11 modules such as ykcs11 and OpenSC hold the card readers open once loaded.
  for (const name of ['yubikey', 'pkcs11'] as const) {
    const backend = BACKENDS[name];
    if (backend.listDevices === undefined) continue;
    const open = io.ctx.openOptions(process.cwd());
    const modules = flags['pkcs11-module'] ?? [];
    const report = await backend.listDevices(
      name === 'pkcs11' && modules.length > 0 ? { ...open, pkcs11Module: modules.join(':') } : open,
    );
    reports.push(report);
  }
  io.log(renderDevices(reports));
  return { backends: reports };
}
