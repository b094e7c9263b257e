export * from './errors.js';
export * from './audit-events.js';
export * from './scopes.js';
export * from './audit-chain.js';
export * from './alerts.js';
export * from './capabilities.js';
export * from './evidence.js';
