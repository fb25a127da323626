/**
 * Qdrant-compatible test server ("stand-in"): the endpoints Lifeboat uses,
 * with Qdrant 1.19's paths, parameters, status codes and JSON shapes
 * (../shared/qdrant/openapi-1.19.json). Tests and the demo only — production
 * talks to real Qdrant.
 */
export { startQdrantServer, type QdrantServerOptions, type RunningQdrantServer } from './server';
export { STAND_IN_VERSION } from './routes';
