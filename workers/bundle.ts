// Prebundles workflow code for production workers (npm run build), so a worker
// starts without running webpack and runs exactly the code that was reviewed.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_PATH } from './worker';
import { WORKFLOW_TRACING_MODULE } from '../observability/tracing';

async function main() {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
  });
  mkdirSync(path.dirname(WORKFLOW_BUNDLE_PATH), { recursive: true });
  writeFileSync(WORKFLOW_BUNDLE_PATH, code);
  console.log(`workflow bundle written to ${WORKFLOW_BUNDLE_PATH} (${code.length} bytes)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
