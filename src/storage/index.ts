/** The storage engines and what the broker needs to configure them. */
export { createMemoryStorage, MemoryPartitionLog } from './memory-storage.js';
export { openDiskStorage, DiskStorage } from './disk-storage.js';
export { DiskPartitionLog } from './disk-partition-log.js';
export { ringBufferBytesMaxDefault, segmentBytesMax, segmentBytesMin, indexEntriesMax } from './limits.js';
export type * from './types.js';
