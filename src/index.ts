/** tufsign as a library: the core without oclif. */
export * from './errors';
export * from './tuf/canonical-json';
export * from './tuf/json';
export * from './tuf/key';
export * from './tuf/metadata';
export * from './tuf/paths';
export * from './tuf/time';
export * from './tuf/threshold';
export * from './tuf/verify';
export type { Signer, SecretsHandler, SecretRequest, SignatureBytes, Backend } from './keystore/signer';
export type { KeyBackend, OpenOptions, GenerateRequest, GeneratedKey, DeviceReport } from './keystore/backend';
export { openSigner, readPublicKey, BACKENDS } from './keystore/registry';
export {
  parseKeyRef,
  keyFilePath,
  type KeyRef,
  type KeyRefOrigin,
  type FileKeyRef,
  type Pkcs11KeyRef,
  type YubiKeyRef,
} from './keystore/key-ref';
export { PrivateKeySigner } from './keystore/file';
export { parsePublicKeyFile, serializePublicKeyFile } from './keystore/public-key-file';
export { Workspace } from './repository/workspace';
export type { SigningContext, CeremonyContext } from './repository/context';
export type { MissingKey, RoleOutcome, OperationResult } from './repository/outcome';
export { commitFiles, type PendingFile } from './repository/transaction';
export { expiryFor } from './repository/expiry';
export { metaFileFor } from './repository/cascade';
export { signWithAvailableKeys, openSignersFor } from './repository/signing';
export type { RoleKeySpec } from './repository/key-specs';
export { initRepository, type InitOptions } from './repository/init';
export {
  addTargets,
  addPreparedTargets,
  parseCustomJson,
  removeTargets,
  targetFilesOf,
  type PreparedTarget,
  type TargetInput,
} from './repository/targets';
export { signRole, type SignOptions } from './repository/sign';
export { refresh } from './repository/refresh';
export { verifyRepository, type VerifyReport, type VerifyOptions, type RepositorySource } from './verify/verify';
export { directorySource } from './verify/sources';
export { repositoryStatus } from './repository/status';
export { lockWorkspace, LOCK_FILE, type WorkspaceLock, type LockHolder, type LockOptions } from './io/lock';
