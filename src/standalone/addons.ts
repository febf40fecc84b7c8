/**
 * In the standalone bundle, `require('pkcs11js')` and `require('pcsclite')`
 * are bundled JavaScript whose `require('…/pkcs11.node')` / `bindings('pcsclite')`
 * are rewritten (scripts/package.js) to `loadAddon(name)`: the compiled addon
 * is opened with process.dlopen from `lib/` beside the executable only.
 */
import { addonPath } from '../io/executable';

export function loadAddon(name: string): unknown {
  const module = { exports: {} as unknown };
  process.dlopen(module, addonPath(name));
  return module.exports;
}
