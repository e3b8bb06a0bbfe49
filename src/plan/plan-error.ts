import type { ErrorCode } from '../contracts/error-codes.js';

/**
 * A plan could not be made. `code` is the ActionResult error code the caller ends the request with:
 * rollback_unavailable (no release to go back to), invalid_request (the request cannot be planned as
 * asked), internal (the caller passed too little, or the result broke the contract: a bug).
 */
export type PlanErrorCode = Extract<ErrorCode, 'rollback_unavailable' | 'invalid_request' | 'internal'>;

export class PlanError extends Error {
  constructor(
    readonly code: PlanErrorCode,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}
