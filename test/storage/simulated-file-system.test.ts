/** The simulated file system the durability tests run storage on: what survives a power loss, faults, counters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import { replaceFileAtomically } from '../../src/storage/file-io.js';

test('only synced bytes and synced folder entries survive a power loss', async () => {
  const fs = SimulatedFileSystem.create();
  await fs.mkdir('/d');
  await fs.syncDir('/');
  const file = await fs.open('/d/a', 'wx+');
  await file.writev([Buffer.from('hello ')], 0);
  await file.datasync();
  await file.writev([Buffer.from('world')], 6);
  // The file's entry in /d is not synced: the whole file is gone after the power loss.
  let after = fs.powerLoss();
  assert.deepEqual(await after.readdir('/d'), []);
  await assert.rejects(file.writev([Buffer.from('x')], 0), /EIO/, 'handles of the dead view fail');

  const fs2 = after;
  const second = await fs2.open('/d/a', 'wx+');
  await fs2.syncDir('/d');
  await second.writev([Buffer.from('hello ')], 0);
  await second.datasync();
  await second.writev([Buffer.from('world')], 6);
  after = fs2.powerLoss();
  assert.equal((await after.readFile('/d/a')).toString(), 'hello ', 'the unsynced write is dropped');

  // A torn write: only the first bytes of the last unsynced write land.
  const third = await after.open('/d/a', 'r+');
  await third.writev([Buffer.from('WORLD')], 6);
  const torn = after.powerLoss({ tear: { path: '/d/a', keepBytes: 2 } });
  assert.equal((await torn.readFile('/d/a')).toString(), 'hello WO');
});

test('a folder created but not synced in its parent vanishes with everything in it', async () => {
  const fs = SimulatedFileSystem.create();
  await fs.mkdir('/data/p-0');
  const file = await fs.open('/data/p-0/x', 'wx+');
  await file.writev([Buffer.from('abc')], 0);
  await file.sync();
  await fs.syncDir('/data/p-0');
  const after = fs.powerLoss();
  assert.deepEqual(await after.readdir('/'), []);
});

test('a gap before a torn write reads as zeros; unlinks and renames revert unless the folder is synced', async () => {
  const fs = SimulatedFileSystem.create();
  await fs.mkdir('/d');
  await fs.syncDir('/');
  const file = await fs.open('/d/a', 'wx+');
  await fs.syncDir('/d');
  await file.writev([Buffer.from('aaaa')], 0);
  await file.writev([Buffer.from('bbbb')], 4);
  const torn = fs.powerLoss({ tear: { keepBytes: 4 } });
  assert.deepEqual(await torn.readFile('/d/a'), Buffer.from([0, 0, 0, 0, 98, 98, 98, 98]));

  await replaceFileAtomically(torn, '/d/state', '/d/state.tmp', 'one');
  const handle = await torn.open('/d/state.tmp', 'w');
  await handle.writev([Buffer.from('two')], 0);
  await handle.sync();
  await torn.rename('/d/state.tmp', '/d/state');
  await torn.unlink('/d/a');
  const reverted = torn.powerLoss();
  assert.equal((await reverted.readFile('/d/state')).toString(), 'one', 'the rename was not made durable');
  assert.ok((await reverted.readdir('/d')).includes('a'), 'the unlink was not made durable');
});

test('faults: ENOSPC after a short write, EIO on sync, slow syncs, counters', async () => {
  const fs = SimulatedFileSystem.create();
  await fs.mkdir('/d');
  const file = await fs.open('/d/a', 'wx+');
  fs.injectFault({ code: 'ENOSPC', operations: ['write'], bytesBeforeFailure: 3 });
  await assert.rejects(file.writev([Buffer.from('abcdef')], 0), (error: NodeJS.ErrnoException) => error.code === 'ENOSPC');
  assert.equal((await fs.readFile('/d/a')).toString(), 'abc', 'the short write landed');
  fs.clearFaults();
  fs.injectFault({ code: 'EIO', operations: ['sync'], path: /\/a$/ });
  await assert.rejects(file.datasync(), (error: NodeJS.ErrnoException) => error.code === 'EIO');
  fs.clearFaults();
  fs.syncDelayMs = 30;
  const started = Date.now();
  const syncsBefore = fs.counters.syncs;
  await file.datasync();
  assert.ok(Date.now() - started >= 25);
  assert.equal(fs.counters.syncs, syncsBefore + 1);
  assert.equal(fs.counters.writes, 1);
});
