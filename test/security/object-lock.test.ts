/**
 * S3 Object Lock on MinIO (issue 14): with `objectLock`, immutable objects are put with retention,
 * so Lifeboat's own credentials cannot delete their versions before expiry; a bucket without Object
 * Lock is refused, saying why, with nothing written.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { initRepository, openRepository, type Repository } from '../../repository';
import { FAST, collectBytes, fromBuffer, minioOptions } from '../repository/helpers';

describe('S3 Object Lock: retention set at upload; buckets without Object Lock refused', () => {
  const s3 = new S3Client({ ...minioOptions() });
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    await Promise.all(closers.map((c) => c()));
    s3.destroy();
  });

  test('locked bucket: chunks, indexes and points carry retention; deleting a version is refused; forget loses nothing', async () => {
    const bucket = `lb-lock-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    const loc = {
      url: `s3://${bucket}/repo`,
      s3: { ...minioOptions(), objectLock: { mode: 'GOVERNANCE' as const, retentionDays: 2 } },
    };
    const repo: Repository = await initRepository(loc, 'lock-pw', FAST);
    closers.push(() => repo.close());
    const data = Buffer.from(`precious data ${randomUUID()}`.repeat(1000));
    const { written: _w, ...ref } = await repo.writeArtifact(fromBuffer(data), {
      source: 'sessions',
      kind: 'redis-logical',
      name: 'db0',
    });
    const rp = await repo.commitRecoveryPoint({ artifacts: [ref] });
    await repo.audit.append({ operation: 'backup', outcome: 'success', points: [rp.id] });

    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'repo/' }))).Contents ?? []).map(
      (o) => o.Key as string,
    );
    const immutable = keys.filter((k) => /^repo\/(config|data\/|artifacts\/|points\/|records\/)/.test(k));
    assert.ok(immutable.some((k) => k.startsWith('repo/points/')) && immutable.some((k) => k.startsWith('repo/data/')));
    const soon = Date.now() + 2 * 86_400_000;
    for (const Key of immutable) {
      const r = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key }));
      assert.equal(r.Retention?.Mode, 'GOVERNANCE', Key);
      const until = r.Retention?.RetainUntilDate?.getTime() ?? 0;
      assert.ok(
        Math.abs(until - soon) < 10 * 60_000,
        `${Key} retained until ${r.Retention?.RetainUntilDate?.toISOString()}`,
      );
    }
    // Key files are replaced by key changes: not locked.
    const keyFile = keys.find((k) => k.startsWith('repo/keys/')) as string;
    await assert.rejects(s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: keyFile })));

    // A stolen credential (Lifeboat's own) cannot delete the locked version of the point.
    const pointKey = `repo/points/${rp.id}`;
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: pointKey }));
    const versionId = versions.Versions?.[0]?.VersionId as string;
    assert.ok(versionId);
    await assert.rejects(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: pointKey, VersionId: versionId })),
      (e: unknown) => /AccessDenied|locked|WORM|retention/i.test(`${(e as Error).name} ${(e as Error).message}`),
    );
    // forget only adds a delete marker: the locked version, and the data, are still there.
    await repo.forget(rp.id);
    assert.deepEqual(await repo.listRecoveryPoints(), []);
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: pointKey, VersionId: versionId }));
    assert.ok((await kept.Body!.transformToByteArray()).length > 0);
    assert.deepEqual(await collectBytes(repo.readArtifact(ref)), data, 'the data is intact');
  });

  test('a bucket without Object Lock is refused, saying why, and nothing is written', async () => {
    const bucket = `lb-nolock-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const loc = {
      url: `s3://${bucket}/repo`,
      s3: { ...minioOptions(), objectLock: { mode: 'COMPLIANCE' as const, retentionDays: 1 } },
    };
    await assert.rejects(initRepository(loc, 'pw', FAST), (e: unknown) => {
      assert.match((e as Error).message, /does not have S3 Object Lock enabled/);
      assert.match((e as Error).message, /only be turned on when a bucket is created/);
      return true;
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(listed.KeyCount ?? 0, 0, 'nothing written');
    // An existing repository opened with objectLock on such a bucket refuses its first write too.
    const plain = await initRepository({ url: `s3://${bucket}/repo2`, s3: minioOptions() }, 'pw2', FAST);
    await plain.close();
    const locked = await openRepository({ url: `s3://${bucket}/repo2`, s3: loc.s3 }, 'pw2');
    closers.push(() => locked.close());
    await assert.rejects(locked.records.put('notes', 'n1', { x: 1 }), /does not have S3 Object Lock enabled/);
  });
});
