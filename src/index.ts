/** tufsign as a library: the core without oclif. */
export * from './errors';
export * from './tuf/canonical-json';
export * from './tuf/json';
export * from './tuf/key';
export * from './tuf/metadata';
export * from './tuf/paths';
export * from './tuf/time';
export * from './tuf/verify';
export type { Signer, SecretsHandler, SecretRequest, SignatureBytes, Backend } from './keystore/signer';
export type { KeyBackend, OpenOptions, GenerateRequest, GeneratedKey, DeviceReport } from './keystore/backend';
export { backendFor, openSigner, BACKENDS } from './keystore/registry';
export { PrivateKeySigner } from './keystore/file';
export { parsePublicKeyFile, serializePublicKeyFile } from './keystore/public-key-file';
export { Workspace } from './repository/workspace';
export * from './repository/operations';
export { verifyRepository, type VerifyReport, type VerifyOptions, type RepositorySource } from './repository/verify';
export { directorySource } from './repository/sources';
export { repositoryStatus } from './repository/status';
