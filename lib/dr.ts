/**
 * Types of the disaster-recovery workflow (pure: the workflow bundle imports them). Only
 * references travel here: source names, recovery point ids, people's names, reasons.
 */

export const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DR_WORKFLOW_TYPE = 'disasterRecoveryWorkflow';

/** `lifeboat-dr-<incident>`: one workflow per incident, so a second declaration finds the first. */
export function drWorkflowId(incidentId: string): string {
  return `lifeboat-dr-${incidentId}`;
}

/** Incident ids appear in workflow ids and record names. */
export const INCIDENT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One declaration (the first starts the workflow; later ones of the same incident join it). */
export interface DrDeclaration {
  incidentId: string;
  severity: Severity;
  /** Affected sources; absent = every configured source (then healthy ones are left alone). */
  sources?: string[];
  declaredBy: string;
  reason: string;
  /** ISO time: recover to a point taken before this (corruption found at 10:42). */
  before?: string;
  /** Where it came from: cli, client, alertmanager, pagerduty, webhook. */
  via: string;
  /** Identifies the declaration for deduplication (alert fingerprint, PagerDuty event id). */
  key?: string;
}

export interface DrInput extends DrDeclaration {
  /** Test hook: fail verification of this source in its restore child. Never set in production. */
  injectVerifyFailure?: string;
  /** Test hook: after this group is restored, wait for an abort (makes "abort after group 1" deterministic). */
  holdAfterGroup?: number;
}

export type SourceHealth = 'healthy' | 'degraded' | 'lost';

export interface SourceAssessment {
  source: string;
  type: string;
  reachable: boolean;
  health: SourceHealth;
  /** Live counts (keys, points, vectors) per unit, when reachable. */
  counts?: Record<string, number>;
  /** The newest backup compared with, and its counts. */
  newestPointId?: string;
  newestCounts?: Record<string, number>;
  /** Live digest equals the newest backup's. */
  unchangedSinceBackup?: boolean;
  evidence: string[];
}

export interface PlannedRecovery {
  source: string;
  type: string;
  recoveryPointId: string;
  pointTime: string;
  /** Declaration time − point time: writes in this window are lost. */
  expectedDataLossMs: number;
  rpoTargetMs: number;
  rtoTargetMs: number;
  restoreOrder: number;
  why: string;
}

export interface PlanGroup {
  /** 1-based, in restore order. */
  index: number;
  recoveryPointId: string;
  sources: string[];
}

export interface DrPlan {
  version: number;
  createdAt: string;
  before?: string;
  /** True when one recovery point serves every source (the stores then match each other). */
  sharedPoint: boolean;
  recoveries: PlannedRecovery[];
  groups: PlanGroup[];
  /** Sources assessed healthy and not named: left alone. */
  leftAlone: string[];
  /** From drill records, when there are any. */
  expectedRtoMs?: number;
  expectedRtoBasis: string;
  /** Why the plan cannot be carried out (nothing to recover, no usable point). */
  problems: string[];
}

export interface DrApproval {
  approver: string;
  planVersion: number;
  comment?: string;
}

export interface DrDecision {
  by: string;
  reason: string;
}

export type DrPhase =
  | 'declared'
  | 'assessing'
  | 'planning'
  | 'awaiting-approval'
  | 'recovering'
  | 'validating'
  | 'reporting'
  | 'rolling-back'
  | 'completed'
  | 'aborted'
  | 'rejected'
  | 'failed';

export interface GroupOutcome {
  index: number;
  recoveryPointId: string;
  sources: string[];
  childWorkflowId: string;
  status: 'pending' | 'restoring' | 'restored' | 'failed' | 'rolled-back' | 'rollback-failed';
  safetyRecoveryPointId?: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export interface SourceValidation {
  source: string;
  ok: boolean;
  detail: string;
}

/** The incident report: stored as `records/incidents/<incident>` and returned as the result. */
export interface DrReport {
  incidentId: string;
  workflowId: string;
  severity: Severity;
  outcome: 'recovered' | 'aborted' | 'rejected' | 'failed' | 'nothing-to-do';
  declarations: DrDeclaration[];
  declaredAt: string;
  approvedAt?: string;
  approvedBy?: string;
  approvedPlanVersion?: number;
  restoreStartedAt?: string;
  restoreFinishedAt?: string;
  validatedAt?: string;
  finishedAt: string;
  /** declaredAt → validatedAt. */
  rtoMs?: number;
  /** First restore start → last restore end. */
  restoreMs?: number;
  assessment: SourceAssessment[];
  plan?: DrPlan;
  groups: GroupOutcome[];
  validation: SourceValidation[];
  /** Cross-store consistency over the links touching the recovered sources (docs/consistency.md); `not-run` when none does. */
  consistency: { status: 'passed' | 'failed' | 'not-run'; detail: string };
  dataLoss: {
    source: string;
    recoveryPointId: string;
    windowMs: number;
    rpoTargetMs: number;
    withinTarget: boolean;
  }[];
  rtoTargetMs?: number;
  rtoWithinTarget?: boolean;
  rolledBack: string[];
  rollbackFailures: string[];
  reason?: string;
  escalations: string[];
}

/** Answer of the `drStatus` query. */
export interface DrStatus {
  incidentId: string;
  phase: DrPhase;
  severity: Severity;
  declarations: DrDeclaration[];
  declaredAt: string;
  assessment: SourceAssessment[];
  plan?: DrPlan;
  approvedBy?: string;
  groups: GroupOutcome[];
  escalations: string[];
  detail: string;
}

/** DR settings the workflow reads once through an activity (recorded in history, so replay is deterministic). */
export interface DrSettings {
  approvalTimeoutMs: number;
  onApprovalTimeout: 'escalate' | 'abort';
  autoApprove: Severity[];
}
