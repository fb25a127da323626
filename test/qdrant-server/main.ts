/**
 * Standalone stand-in for the demo:
 *   tsx test/qdrant-server/main.ts --data DIR [--port 6333] [--host 127.0.0.1]
 * Prints `qdrant stand-in listening on <url>` once ready; SIGINT/SIGTERM stop it cleanly.
 */
import { parseArgs } from 'node:util';
import { startQdrantServer } from './server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      port: { type: 'string', default: '6333' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  if (!values.data) {
    console.error('usage: tsx test/qdrant-server/main.ts --data DIR [--port 6333] [--host 127.0.0.1]');
    process.exit(2);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a TCP port number, got ${values.port}`);
    process.exit(2);
  }
  const server = await startQdrantServer({ dataDir: values.data, port, host: values.host });
  console.log(`qdrant stand-in listening on ${server.url} (data in ${server.dataDir})`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop).once('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`qdrant stand-in: ${(e as Error).message}`);
  process.exit(1);
});
