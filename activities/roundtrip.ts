import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';

export interface RoundTripDeps {
  redisUrl: string;
  s3: { client: S3Client; bucket: string };
}

/** What was found under a probe id in Redis and S3. */
export interface ProbeRecord {
  probeId: string;
  redisKey: string;
  s3Key: string;
  /** sha256 of the probe value in Redis. */
  redisSha256: string;
  /** sha256 of the probe object in S3. */
  s3Sha256: string;
}

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The probe value is derived from the id, so writing it twice is idempotent. */
function probeValue(probeId: string): Buffer {
  return Buffer.from(`lifeboat round trip ${probeId}`);
}

export function createRoundTripActivities(deps: RoundTripDeps) {
  const keys = (probeId: string) => ({ redisKey: `lifeboat:probe:${probeId}`, s3Key: `probes/${probeId}` });
  return {
    async writeProbe(probeId: string): Promise<ProbeRecord> {
      const { redisKey, s3Key } = keys(probeId);
      const value = probeValue(probeId);
      const redis = new Redis(deps.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
      try {
        await redis.connect();
        await redis.set(redisKey, value);
      } finally {
        redis.disconnect();
      }
      await deps.s3.client.send(new PutObjectCommand({ Bucket: deps.s3.bucket, Key: s3Key, Body: value }));
      return { probeId, redisKey, s3Key, redisSha256: sha256(value), s3Sha256: sha256(value) };
    },
    async readProbe(probeId: string): Promise<ProbeRecord> {
      const { redisKey, s3Key } = keys(probeId);
      const redis = new Redis(deps.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
      let fromRedis: Buffer | null;
      try {
        await redis.connect();
        fromRedis = await redis.getBuffer(redisKey);
      } finally {
        redis.disconnect();
      }
      if (!fromRedis) throw new Error(`probe ${redisKey} is missing from Redis`);
      const obj = await deps.s3.client.send(new GetObjectCommand({ Bucket: deps.s3.bucket, Key: s3Key }));
      const fromS3 = await obj.Body!.transformToByteArray();
      return { probeId, redisKey, s3Key, redisSha256: sha256(fromRedis), s3Sha256: sha256(fromS3) };
    },
  };
}

export type RoundTripActivities = ReturnType<typeof createRoundTripActivities>;
