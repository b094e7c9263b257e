/**
 * `@aim/sdk/node`: the Node-only parts (files under `~/.aim`, 0600, atomic writes) and `secure()`.
 * Everything from `@aim/sdk` is re-exported, so Node programs need one import.
 */
export * from '../index.js';
export { aimHome, credentialsDir, CredentialFile, refreshTokenFile, writeFileAtomic } from './files.js';
export { withFileLock, type FileLockOptions } from './lock.js';
export { identityFile, identityStore, secure, type SecureOptions } from './secure.js';
