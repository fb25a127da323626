/**
 * Qdrant-compatible test server ("stand-in"): the endpoints Lifeboat uses,
 * with Qdrant 1.19's paths, parameters, status codes and JSON shapes
 * (openapi-1.19.json here, a copy of Qdrant's own). Tests and the demo only — production
 * talks to real Qdrant.
 */
export { startQdrantServer, type QdrantServerOptions, type RunningQdrantServer } from './server';
export { STAND_IN_VERSION } from './routes';
