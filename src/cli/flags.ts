import { Flags } from '@oclif/core';

export const workspaceFlag = Flags.string({ char: 'w', description: 'Workspace directory.', default: '.' });
