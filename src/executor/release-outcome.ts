import type { ActionOutcome } from '../actions/action-types.js';
import type { PlanFor, Release } from '../contracts/index.js';

/** What a deploy plan's `desired` names: the release deploy.ts and compose-deploy.ts both build. */
export type DeployDesired = PlanFor<'deploy'>['desired'];

/** The outcome of an operation that makes a release (deploy, rollback, set_env), with the release. */
export type ReleaseOutcome = ActionOutcome & { release?: Release };
