import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

/**
 * Activity option profiles, one place for every workflow, each with its reason.
 * (Before, backup and restore each had their own copies that differed without
 * a word why.)
 */
export const ACTIVITY_PROFILES = {
  /**
   * Bookkeeping against the repository and the config (plans, commits,
   * confirmations): seconds of work. 5 minutes covers a slow S3 listing of a
   * large repository; 5 attempts ride out a network blip, while bad input is
   * non-retryable and stops at once anyway.
   */
  short: {
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', maximumAttempts: 5 },
  },
  /**
   * Streaming work whose length follows the data (backups, reads, restores):
   * no overall deadline worth guessing (12 h is a backstop), but a dead worker
   * is noticed within the heartbeat timeout and the activity retried
   * elsewhere, with backoff up to a minute.
   */
  streaming: {
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  },
  /**
   * Streaming work that writes a restore target. Like `streaming`, but on
   * cancellation the workflow waits until the activity has really stopped (or
   * its worker is declared dead): a compensation must never write a target
   * while the cancelled restore still does.
   */
  targetWriting: {
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  },
} as const satisfies Record<string, ActivityOptions>;
