/** Signatures of the disaster-recovery activities (types only: the workflow bundle imports them). */
import type { DrPlan, DrReport, DrSettings, SourceAssessment, SourceValidation } from '../workflows/dr-types';

export interface DrActivities {
  /** The config's `dr:` settings (approval timeout, what a timeout does, auto-approval). */
  drSettings(): Promise<DrSettings>;
  /** Reachable? live counts and digest vs the newest backup → healthy / degraded / lost, with the evidence. */
  assessSources(input: { sources?: string[] }): Promise<SourceAssessment[]>;
  /** Chooses the recovery point per source (newest verified, before `before`, one shared where possible). */
  planRecovery(input: {
    assessment: SourceAssessment[];
    /** Sources the declaration named: recovered even when healthy. */
    named?: string[];
    before?: string;
    declaredAt: string;
    version: number;
  }): Promise<DrPlan>;
  /** Every recovered target compared with its recovery point's fingerprint (counts and content digests). */
  validateRecovery(input: { recoveries: { source: string; recoveryPointId: string }[] }): Promise<SourceValidation[]>;
  /**
   * Puts a source recovered by an earlier (finished) group back as it was before the DR, from the
   * safety point its restore took; a target that did not exist then is removed again.
   */
  rollbackRecoveredSource(input: {
    source: string;
    restoredPointId: string;
    safetyRecoveryPointId: string;
    rollbackId: string;
  }): Promise<{ detail: string }>;
  /** Approval overdue: tells people (worker log, incident record `<id>-escalations`). */
  escalateApproval(input: {
    incidentId: string;
    workflowId: string;
    severity: string;
    waitedMs: number;
  }): Promise<void>;
  /** Stores the report as records/incidents/<incident id> (replacing a draft). */
  storeIncidentReport(report: DrReport): Promise<{ recordId: string }>;
}
