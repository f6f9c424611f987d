/** The storage engines and what the broker needs to configure them. */
export { createMemoryStorage, MemoryPartitionLog, type MemoryStorageOptions } from './memory-storage.js';
export { openDiskStorage, DiskStorage, type DiskStorageOptions } from './disk-storage.js';
export { DiskPartitionLog } from './disk-partition-log.js';
export { nodeFileSystem } from './file-system.js';
export { ringBufferBytesMaxDefault, segmentBytesMax, segmentBytesMin, indexEntriesMax, memoryBytesMaxDefault, recoveryCheckpointIntervalMsDefault } from './limits.js';
export { StorageError, isStorageError } from './storage-error.js';
export type * from './types.js';
