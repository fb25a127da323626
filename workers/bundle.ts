// Prebundles workflow code for production workers (npm run build), so a worker
// starts without running webpack and runs exactly the code that was reviewed.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ENCRYPTED_WORKFLOW_BUNDLE_PATH, WORKFLOW_BUNDLE_PATH } from './worker';
import { WORKFLOW_TRACING_MODULE } from '../observability/tracing';

async function main() {
  mkdirSync(path.dirname(WORKFLOW_BUNDLE_PATH), { recursive: true });
  for (const [file, failureConverterPath] of [
    [WORKFLOW_BUNDLE_PATH, undefined],
    [ENCRYPTED_WORKFLOW_BUNDLE_PATH, require.resolve('../lib/failure-converter')],
  ] as const) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
      failureConverterPath,
    });
    writeFileSync(file, code);
    console.log(`workflow bundle written to ${file} (${code.length} bytes)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
