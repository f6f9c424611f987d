/** The disk engine's storage object: the topic catalog, partition folders, deletion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDiskStorage } from '../../src/storage/index.js';
import type { PartitionOptions, TopicRecord } from '../../src/storage/types.js';
import { makeBatch, withTempDir } from './fixtures.js';

const options: PartitionOptions = { segmentBytes: 1 << 20, indexIntervalBytes: 4096, ringBufferBytesMax: 1 << 20 };

const topic = (name: string, partitions: number, idByte: number, configs: Record<string, string> = {}): TopicRecord => ({
  name,
  id: Buffer.alloc(16, idByte),
  partitions,
  configs,
});

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

test('the catalog is saved to topics.json and read back at open', async () => {
  await withTempDir(async (dataDir) => {
    let storage = await openDiskStorage(dataDir);
    assert.equal(storage.kind, 'disk');
    assert.deepEqual(storage.listTopics(), []);
    await storage.saveTopic(topic('orders', 3, 1, { 'cleanup.policy': 'delete', 'retention.ms': '1000' }));
    await storage.saveTopic(topic('a.b_c-d', 1, 2));
    // Saving again replaces (as after CreatePartitions).
    await storage.saveTopic(topic('orders', 5, 1, { 'cleanup.policy': 'delete' }));
    await storage.close();

    const catalog = JSON.parse(await readFile(join(dataDir, 'topics.json'), 'utf8'));
    assert.deepEqual(catalog, {
      version: 1,
      topics: [
        { name: 'orders', id: '01'.repeat(16), partitions: 5, configs: { 'cleanup.policy': 'delete' } },
        { name: 'a.b_c-d', id: '02'.repeat(16), partitions: 1, configs: {} },
      ],
    });
    assert.deepEqual((await readdir(dataDir)).sort(), ['.clean-shutdown', 'log-start-offset-checkpoint', 'recovery-point-offset-checkpoint', 'topics.json']);

    storage = await openDiskStorage(dataDir);
    assert.deepEqual(storage.listTopics(), [topic('orders', 5, 1, { 'cleanup.policy': 'delete' }), topic('a.b_c-d', 1, 2)]);
    await storage.close();
  });
});

test('concurrent saves leave the catalog holding all of them', async () => {
  await withTempDir(async (dataDir) => {
    const storage = await openDiskStorage(dataDir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage.saveTopic(topic(`t${i}`, 1, i))));
    await storage.close();
    const reopened = await openDiskStorage(dataDir);
    assert.equal(reopened.listTopics().length, 20);
    await reopened.close();
  });
});

test('a damaged catalog fails the open loudly', async () => {
  await withTempDir(async (dataDir) => {
    await writeFile(join(dataDir, 'topics.json'), '{"version":1,"topics":[{"name":"x","id":"zz","partitions":1,"configs":{}}]}');
    await assert.rejects(openDiskStorage(dataDir), /id is not 32 hex digits/);
    await writeFile(join(dataDir, 'topics.json'), '{"version":1,"top');
    await assert.rejects(openDiskStorage(dataDir), SyntaxError);
  });
});

test('deleteTopic closes open partitions and removes their folders and catalog entry only', async () => {
  await withTempDir(async (dataDir) => {
    const storage = await openDiskStorage(dataDir);
    await storage.saveTopic(topic('a', 2, 1));
    await storage.saveTopic(topic('a-1', 1, 2));
    const logs = [await storage.openPartition('a', 0, options), await storage.openPartition('a', 1, options), await storage.openPartition('a-1', 0, options)];
    assert.equal(await storage.openPartition('a', 0, options), logs[0], 'an open partition is shared');
    const { batch, info } = makeBatch(1, 10, [1]);
    const written = logs[0]!.append(batch, info).written;
    assert.deepEqual((await readdir(dataDir)).sort(), ['a-0', 'a-1', 'a-1-0', 'topics.json']);

    await storage.deleteTopic('a');
    await written;
    assert.deepEqual((await readdir(dataDir)).sort(), ['a-1-0', 'topics.json']);
    assert.deepEqual(storage.listTopics().map((t) => t.name), ['a-1']);
    assert.throws(() => logs[0]!.append(batch, info), /closed/);
    // The other topic is untouched and still open.
    logs[2]!.append(batch, info);
    await storage.close();
    const reopened = await openDiskStorage(dataDir);
    assert.deepEqual(reopened.listTopics().map((t) => t.name), ['a-1']);
    assert.equal((await reopened.openPartition('a-1', 0, options)).logEndOffset, 1);
    await reopened.close();
  });
});

test('a topic created again after deletion starts empty', async () => {
  await withTempDir(async (dataDir) => {
    const storage = await openDiskStorage(dataDir);
    await storage.saveTopic(topic('t', 1, 1));
    const log = await storage.openPartition('t', 0, options);
    const { batch, info } = makeBatch(3, 10, [1, 2, 3]);
    await log.append(batch, info).written;
    await storage.deleteTopic('t');
    await storage.saveTopic(topic('t', 1, 2));
    const again = await storage.openPartition('t', 0, options);
    assert.equal(again.logEndOffset, 0);
    await storage.close();
  });
});

test('a partition folder left by an earlier topic of the same name is cleared, not served', async () => {
  await withTempDir(async (dataDir) => {
    let storage = await openDiskStorage(dataDir);
    await storage.saveTopic(topic('t', 1, 1));
    const log = await storage.openPartition('t', 0, options);
    const { batch, info } = makeBatch(3, 10, [1, 2, 3]);
    log.append(batch, info);
    await storage.close();
    assert.deepEqual(JSON.parse(await readFile(join(dataDir, 't-0', 'partition.metadata'), 'utf8')), { version: 1, topicId: '01'.repeat(16) });

    // As if deletion had stopped after the catalog write, and the name were then taken again.
    await writeFile(join(dataDir, 'topics.json'), JSON.stringify({ version: 1, topics: [{ name: 't', id: '02'.repeat(16), partitions: 1, configs: {} }] }));
    storage = await openDiskStorage(dataDir);
    const fresh = await storage.openPartition('t', 0, options);
    assert.equal(fresh.logEndOffset, 0);
    assert.deepEqual(JSON.parse(await readFile(join(dataDir, 't-0', 'partition.metadata'), 'utf8')), { version: 1, topicId: '02'.repeat(16) });
    await storage.close();
  });
});

test('leftover temp and orphan index files are cleaned at open; bad names and options are refused', async () => {
  await withTempDir(async (dataDir) => {
    await writeFile(join(dataDir, 'topics.json.tmp'), 'half a catal');
    await mkdir(join(dataDir, 'x-0'));
    await writeFile(join(dataDir, 'x-0', '00000000000000000500.index'), Buffer.alloc(8));
    const storage = await openDiskStorage(dataDir);
    assert.equal(await exists(join(dataDir, 'topics.json.tmp')), false);
    const log = await storage.openPartition('x', 0, options);
    assert.equal(await exists(join(dataDir, 'x-0', '00000000000000000500.index')), false);
    assert.equal(log.logEndOffset, 0);
    await assert.rejects(storage.openPartition('../escape', 0, options), /cannot name a folder/);
    await assert.rejects(storage.openPartition('y', 0, { ...options, segmentBytes: 10 }), RangeError);
    await storage.close();
    await assert.rejects(storage.openPartition('x', 0, options), /closed/);
  });
});
