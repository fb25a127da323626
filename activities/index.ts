// Barrel: the activities' public surface. Implementation lives in named modules.
export { createActivities, defaultScratchDir, type ActivityDeps } from './create';
export { PlanError, RecoveryPointDamagedError } from './errors';
export type { LifeboatActivities } from './types';
export type { RestoreTargetOverride } from '../lib/domain';
