// Barrel: metrics, tracing and the worker's /metrics server.
export * from './start';
