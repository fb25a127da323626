import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testEnv } from '../harness/env';
import { redisInline } from '../servers/redis';

test('harness: shared Redis answers', async () => {
  const env = testEnv();
  assert.match(await redisInline(env.redis.port, 'PING'), /^\+PONG/);
});
