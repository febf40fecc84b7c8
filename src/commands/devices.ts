import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command';
import type { DeviceReport } from '../keystore/backend';
import { BACKENDS } from '../keystore/registry';
import { renderDevices } from '../cli/render';

export default class Devices extends BaseCommand<typeof Devices> {
  static override summary = 'List PKCS#11 tokens and YubiKeys this machine can use, and diagnose what is missing.';
  static override examples = [
    '<%= config.bin %> devices',
    '<%= config.bin %> devices --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --json',
  ];
  static override flags = {
    'pkcs11-module': Flags.string({
      description: 'Also look at this PKCS#11 module.',
      multiple: true,
      aliases: ['module'],
      deprecateAliases: true,
    }),
  };

  async run(): Promise<{ backends: DeviceReport[] }> {
    const reports: DeviceReport[] = [];
    // YubiKeys first: PKCS#11 modules such as ykcs11 and OpenSC hold the card readers open once loaded.
    for (const name of ['yubikey', 'pkcs11'] as const) {
      const backend = BACKENDS[name];
      if (backend.listDevices === undefined) continue;
      const open = this.ctx.openOptions(process.cwd());
      const modules = this.flags['pkcs11-module'] ?? [];
      const report = await backend.listDevices(
        name === 'pkcs11' && modules.length > 0 ? { ...open, pkcs11Module: modules.join(':') } : open,
      );
      reports.push(report);
    }
    this.log(renderDevices(reports));
    return { backends: reports };
  }
}
