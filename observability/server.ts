import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LifeboatMetrics } from './metrics';

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics`: Lifeboat's registry, followed by the Temporal SDK's own worker metrics
 * (temporal_*, fetched from the runtime's loopback exporter) so one scrape target has both.
 */
export async function startMetricsServer(opts: {
  listen: string;
  metrics: LifeboatMetrics;
  /** The Temporal runtime's Prometheus endpoint, e.g. http://127.0.0.1:39001/metrics. */
  temporalMetricsUrl?: string;
}): Promise<MetricsServer> {
  const i = opts.listen.lastIndexOf(':');
  const host = opts.listen.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(opts.listen.slice(i + 1));
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      if (req.method !== 'GET' || !req.url?.startsWith('/metrics'))
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
      try {
        let body = await opts.metrics.registry.metrics();
        if (opts.temporalMetricsUrl) {
          const r = await fetch(opts.temporalMetricsUrl, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
          if (r?.ok) body += '\n' + (await r.text());
        }
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(body);
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot serve metrics on ${opts.listen} (${e.code ?? e.message}); set observability.metrics.listen to a free host:port`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shownHost}:${a.port}/metrics`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A free loopback port for the Temporal runtime's own exporter (it needs a fixed bind address). */
export async function freeLoopbackPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
