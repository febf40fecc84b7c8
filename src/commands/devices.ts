import { BaseCommand } from '../cli/base-command';
import { devicesFlags, runDevices } from '../cli/devices';
import type { DeviceReport } from '../keystore/backend';

export default class Devices extends BaseCommand<typeof Devices> {
  static override summary = 'List PKCS#11 tokens and YubiKeys this machine can use, and diagnose what is missing.';
  static override examples = [
    '<%= config.bin %> devices',
    '<%= config.bin %> devices --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --json',
  ];
  static override flags = devicesFlags;

  async run(): Promise<{ backends: DeviceReport[] }> {
    return runDevices(this.io, this.flags);
  }
}
