// The deploy review for Warden (issue 10, trigger 1; contract 1.2 decision 77): when a production
// deploy that must keep the service up (strategy start-first, or the service labelled
// ghost.zero-downtime=true) parks for Warden, the escalation model reviews it from the evidence (what
// changes between releases, health-check coverage, recent incidents, headroom to run old and new at
// once) and Helm adds a job named `advice` to warden.requests: advisory, linked by approval_id and
// plan_hash, outside the signed plan. The ApprovalRequest is already sent and never waits for this;
// proposals are dropped (a review proposes nothing to submit).
import { type AdviceJob, AdviceJobSchema, type ApprovalRequest } from '../contracts/index.js';
import { adviseOnEvidence, type GatheredEvidence, type ModelAsk } from './advise-on-evidence.js';
import { isZeroDowntimeLabelled, routeModel } from './model-router.js';
import { type AdvisorLog, backgroundWork } from './model-runner.js';

export interface DeployReviewDeps extends ModelAsk {
  gather(req: { target: string; environment: string; incidentKind: null }): Promise<GatheredEvidence>;
  /** The service's labels as Docker shows them (null: Helm could not read them). */
  serviceLabels(service: string): Promise<Readonly<Record<string, string>> | null>;
  /** Adds the job named `advice` to warden.requests. */
  sendAdvice(job: AdviceJob): Promise<unknown>;
  log: AdvisorLog;
  now(): Date;
}

export type ParkedRequest = Pick<ApprovalRequest, 'approval_id' | 'plan_hash' | 'plan'>;

export interface DeployReviewer {
  /** Fire and forget, after the ApprovalRequest went out: returns at once, never throws. */
  onParked(request: ParkedRequest): void;
  /** The advice job sent, or null when the deploy does not meet trigger 1. */
  review(request: ParkedRequest): Promise<AdviceJob | null>;
  idle(): Promise<void>;
}

export function makeDeployReviewer(deps: DeployReviewDeps): DeployReviewer {
  const background = backgroundWork(deps.log);
  const review = async ({ approval_id, plan_hash, plan }: ParkedRequest): Promise<AdviceJob | null> => {
    if (plan.action !== 'deploy') return null;
    const labels = await deps.serviceLabels(plan.service).catch(() => null);
    const route = routeModel({
      task: 'deploy_review',
      environment: plan.environment,
      strategy: plan.desired.strategy,
      zeroDowntime: isZeroDowntimeLabelled(labels),
    });
    if (route.trigger === null) return null;
    const gathered = await deps.gather({
      target: plan.service,
      environment: plan.environment,
      incidentKind: null,
    });
    const { advice, source } = await adviseOnEvidence(deps, gathered, {
      escalate: true,
      trigger: route.trigger,
      prompt: (evidence, data) =>
        [
          'Review this production deploy for Warden, who decides on it. The service must stay up.',
          `New image ${data('plan', plan.desired.image)}, strategy ${plan.desired.strategy}, replacing release ${data('plan', plan.desired.replaces_release ?? 'none')} with ${data('plan', plan.desired.new_release)}; ${plan.preconditions.containers.length} container(s) run now.`,
          'Say what changes between the running and the previous release, whether the health check covers',
          'the change, what recent incidents the run log shows, and whether the host has the headroom to',
          'run old and new at once (stats). Cite evidence ids. Propose nothing: this review is advice only.',
          evidence,
        ].join('\n'),
      description: 'Your review of the deploy.',
    });
    const job = AdviceJobSchema.parse({
      type: 'helm.advice.v1',
      advisory: true,
      approval_id,
      plan_hash,
      ...source,
      summary: advice.summary,
      findings: advice.findings,
      possible_causes: advice.possible_causes,
      unknowns: advice.unknowns,
      at: deps.now().toISOString(),
    });
    await deps.sendAdvice(job);
    deps.log.info(
      { approval_id, model: job.model, escalated: job.escalated },
      'advisor: deploy review sent to Warden',
    );
    return job;
  };
  return {
    review,
    onParked: (request) =>
      background.start('deploy review', { approval_id: request.approval_id }, () => review(request)),
    idle: () => background.idle(),
  };
}
