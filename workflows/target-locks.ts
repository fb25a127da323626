import { ErrorCode } from '../lib/error-codes';
import {
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';

/**
 * Exclusion of concurrent writers and readers of one target, with Temporal
 * workflow ids: holding a target means running the child workflow
 * `lifeboat-target-<target>`. Temporal refuses a second workflow with a
 * running id, so a second restore, drill or backup of the same target fails
 * at once (TARGET_BUSY), on any worker. Chosen over repository lock files
 * because the hold ends with its holder whatever happens to it: the child is
 * abandoned-proof (parent close policy TERMINATE), so a terminated or
 * timed-out restore never leaves a stale lock behind, and the UI shows who
 * holds what (the lock's parent and Current Details).
 */
export const releaseTargetSignal = defineSignal('release');

export interface TargetLockInput {
  target: string;
  /** The workflow id of the holder, shown in the lock's Current Details. */
  holder: string;
  purpose: string;
}

/** The lock itself: waits until released (or terminated with its parent). */
export async function targetLockWorkflow(input: TargetLockInput): Promise<void> {
  let released = false;
  setHandler(releaseTargetSignal, () => void (released = true));
  setCurrentDetails(`Held by ${input.holder} (${input.purpose}) for target ${input.target}`);
  await condition(() => released);
  setCurrentDetails(`Released by ${input.holder}`);
}

/** Readable and valid as a workflow id: the target description with whitespace squeezed. */
export const targetLockId = (target: string) => `lifeboat-target-${target.replace(/\s+/g, '_')}`;

/**
 * Takes every target (in sorted order, so two holders never deadlock) or
 * none: a busy one releases those already taken and fails with TARGET_BUSY
 * naming the lock and how to find its holder. Returns the release function.
 */
export async function holdTargets(targets: string[], purpose: string): Promise<() => Promise<void>> {
  const holder = workflowInfo().workflowId;
  const held: string[] = [];
  const release = async () => {
    for (const id of held.splice(0))
      await getExternalWorkflowHandle(id)
        .signal(releaseTargetSignal)
        .catch(() => {});
  };
  for (const target of [...new Set(targets)].sort()) {
    const workflowId = targetLockId(target);
    try {
      await startChild(targetLockWorkflow, {
        workflowId,
        args: [{ target, holder, purpose }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        staticSummary: `Hold ${target} for ${purpose}`,
      });
      held.push(workflowId);
    } catch (e) {
      await release();
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      throw ApplicationFailure.create({
        message:
          `target ${target} is in use by another backup, restore or drill (lock workflow ${workflowId}; ` +
          `its parent is the running operation): nothing was changed; wait until it ends, or find it with ` +
          `temporal workflow describe --workflow-id '${workflowId}'`,
        type: ErrorCode.TARGET_BUSY,
        nonRetryable: true,
        details: [{ target, lockWorkflowId: workflowId }],
      });
    }
  }
  return release;
}
