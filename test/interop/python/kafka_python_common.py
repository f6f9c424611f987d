"""Pieces the kafka-python interop scripts share (imported from the scripts' own folder)."""
import time

from kafka import TopicPartition


def assign_all_from_start(consumer, topic, metadata_seconds=20):
    """Waits for the topic's metadata, assigns every partition (no group) and seeks to the
    beginning; returns the TopicPartitions, in partition order."""
    partitions = None
    deadline = time.time() + metadata_seconds
    while partitions is None and time.time() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            time.sleep(0.1)
    if partitions is None:
        raise RuntimeError('no metadata for topic %s' % topic)
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning()
    return tps
