// The pure core of approvals: plan hashes, key ids, Warden's keyring, signing and verifying decisions,
// and the acceptance rules. The Redis side (parking, consumption) lives in the gate.
export * from './accept-decision.js';
export * from './json-text.js';
export * from './key-id.js';
export * from './keyring.js';
export * from './plan-hash.js';
export * from './sign-decision.js';
export * from './verify-decision.js';
