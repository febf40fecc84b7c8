#!/usr/bin/env node
// oclif's index checks that Node satisfies @oclif/core's own engines (>=18) by loading semver, 47 modules on
// every start: package.json's engines (>=20.17) already ask for more, so that check is skipped here.
const skipCheck = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined;
if (skipCheck) process.env.OCLIF_DISABLE_ENGINE_WARNING = 'true';
const oclif = require('@oclif/core');
// Children (editors, tools tufsign runs) see the environment as the user set it.
if (skipCheck) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
oclif.execute({ dir: __dirname }).catch(oclif.Errors.handle);
