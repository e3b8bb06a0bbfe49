// The bus contract v1 as zod schemas and inferred types: what every Helm module and every TypeScript
// agent imports. One concern a file; this index re-exports them all.
export * from './action-params.js';
export * from './action-request.js';
export * from './action-result.js';
export * from './action-result-builders.js';
export * from './alert.js';
export * from './alert-kinds.js';
export * from './approval-decision.js';
export * from './approval-request.js';
export * from './canonical.js';
export * from './error-codes.js';
export * from './heartbeat.js';
export * from './identifiers.js';
export * from './image-reference.js';
export * from './job-data-guard.js';
export * from './json-value.js';
export * from './message-text.js';
export * from './parse-job-data.js';
export * from './plan.js';
export * from './primitives.js';
export * from './release.js';
export * from './rfc3339.js';
export * from './set-env-params.js';
export * from './unicode.js';
export * from './validation-errors.js';
