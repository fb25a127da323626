// Entry point bundled into the Temporal workflow sandbox: export every workflow here.
// Nothing imported from this file tree may have side effects or use Node APIs.
export * from './backup';
export * from './scheduled-backup';
export * from './restore';
export { progressQuery } from './progress';
export * from './verify';
export * from './disaster-recovery';
export { targetLockWorkflow } from './target-locks';
export { drillWorkflow } from './drill';
export { pruneWorkflow } from './prune';
export { consistencyCheckWorkflow } from './consistency';
export { reindexWorkflow, reindexProgressQuery } from './reindex';
