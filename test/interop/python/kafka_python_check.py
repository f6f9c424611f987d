#!/usr/bin/python3
"""Drives kafka-python 2.0.2 (Debian's python3-kafka) against an Inkwell broker.

Each subcommand does one job and prints one JSON object (its observations) as the last line of
stdout; the Node test that runs it makes the assertions. Errors propagate (exit code 1, traceback
on stderr). Run it with /usr/bin/python3: Debian installs the package only for that interpreter.

  admin    create two topics, create one again, list, describe, describe configs, delete one
  produce  send --count keyed records with headers with the given acks (and compression), flush,
           report metadata
  consume  no group: assign every partition, seek_to_beginning, read up to the end offsets, then
           seek one partition to an offset and read from there
"""
import argparse
import json
import logging
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError

from kafka_python_common import assign_all_from_start


def connection_config(args):
    config = {
        'bootstrap_servers': args.bootstrap,
        'client_id': 'inkwell-kafka-python',
        'request_timeout_ms': 20000,
    }
    if args.cafile:
        config.update(security_protocol='SSL', ssl_cafile=args.cafile)
    if args.api_version:
        config['api_version'] = tuple(int(part) for part in args.api_version.split('.'))
    return config


def plain(value):
    """Makes kafka-python's response objects JSON-friendly."""
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def detected_version(client):
    version = client.config.get('api_version')
    return '.'.join(str(part) for part in version) if version else None


def admin(args):
    client = KafkaAdminClient(**connection_config(args))
    report = {'api_version': detected_version(client)}
    try:
        created = client.create_topics([
            NewTopic(args.topic, args.partitions, 1),
            NewTopic(args.doomed, 1, 1, topic_configs={'retention.ms': '3600000', 'cleanup.policy': 'delete'}),
        ], timeout_ms=10000)
        report['create_version'] = created.API_VERSION
        report['created'] = [{'topic': e[0], 'error_code': e[1]} for e in created.topic_errors]
        try:
            client.create_topics([NewTopic(args.topic, args.partitions, 1)], timeout_ms=10000)
            report['created_again'] = None
        except KafkaError as e:  # kafka-python raises the first topic error of the response
            report['created_again'] = {'error': type(e).__name__, 'errno': e.errno}
        report['listed'] = sorted(client.list_topics())
        described = client.describe_topics([args.topic, args.doomed])
        report['described'] = plain(described)
        configs = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, args.doomed)])
        report['topic_configs'] = plain([response.to_object() for response in configs])
        node_ids = [broker.nodeId for broker in client._client.cluster.brokers()]
        report['node_ids'] = node_ids
        broker_configs = client.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(node_ids[0]))])
        report['broker_configs'] = plain([response.to_object() for response in broker_configs])
        deleted = client.delete_topics([args.doomed], timeout_ms=10000)
        report['delete_version'] = deleted.API_VERSION
        report['deleted'] = [{'topic': e[0], 'error_code': e[1]} for e in deleted.topic_error_codes]
        report['listed_after_delete'] = sorted(client.list_topics())
    finally:
        client.close()
    return report


def record(tag, i):
    key = '%s-k%d' % (tag, i)
    value = '%s-v%d-%s' % (tag, i, 'x' * (i % 37))
    headers = [('tag', tag.encode()), ('i', str(i).encode())]
    return key, value, headers


def produce(args):
    acks = args.acks if args.acks == 'all' else int(args.acks)
    compression = None if args.compression == 'none' else args.compression
    producer = KafkaProducer(acks=acks, linger_ms=5, retries=0, compression_type=compression, **connection_config(args))
    report = {'api_version': detected_version(producer), 'acks': args.acks}
    try:
        futures = []
        for i in range(args.count):
            key, value, headers = record(args.tag, i)
            futures.append((key, producer.send(args.topic, key=key.encode(), value=value.encode(), headers=headers)))
        producer.flush(timeout=30)
        results = []
        for key, future in futures:
            metadata = future.get(timeout=30)
            results.append({'key': key, 'partition': metadata.partition, 'offset': metadata.offset})
        report['results'] = results
    finally:
        producer.close(timeout=10)
    return report


def consume(args):
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_wait_ms=200, **connection_config(args))
    report = {'api_version': detected_version(consumer)}
    try:
        tps = assign_all_from_start(consumer, args.topic)
        beginning = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        report['beginning'] = {str(tp.partition): offset for tp, offset in beginning.items()}
        report['end'] = {str(tp.partition): offset for tp, offset in end.items()}
        records = read_until(consumer, end, deadline=time.time() + 30)
        report['records'] = records

        # seek(): one partition back to a chosen offset, the others left at their end.
        target = TopicPartition(args.topic, args.seek_partition)
        consumer.seek(target, args.seek_offset)
        again = read_until(consumer, end, deadline=time.time() + 30)
        report['after_seek'] = again
    finally:
        consumer.close()
    return report


def read_until(consumer, end, deadline):
    records = []
    while time.time() < deadline:
        if all(consumer.position(tp) >= offset for tp, offset in end.items()):
            break
        batch = consumer.poll(timeout_ms=500, max_records=1000)
        for messages in batch.values():
            for m in messages:
                records.append({
                    'partition': m.partition,
                    'offset': m.offset,
                    'key': None if m.key is None else m.key.decode(),
                    'value': None if m.value is None else m.value.decode(),
                    'headers': [[k, v.decode()] for k, v in m.headers],
                })
    return records


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['admin', 'produce', 'consume'])
    parser.add_argument('--bootstrap', required=True)
    parser.add_argument('--cafile', help='CA certificate; without it, PLAINTEXT')
    parser.add_argument('--api-version', help='skip the probe, e.g. 2.5.0')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--partitions', type=int, default=3)
    parser.add_argument('--doomed', default='kafka-python-doomed')
    parser.add_argument('--acks', default='1', choices=['0', '1', 'all'])
    parser.add_argument('--compression', default='none', help='gzip (the only codec Debian ships support for)')
    parser.add_argument('--count', type=int, default=100)
    parser.add_argument('--tag', default='kp')
    parser.add_argument('--seek-partition', type=int, default=0)
    parser.add_argument('--seek-offset', type=int, default=0)
    parser.add_argument('--debug', action='store_true')
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR, stream=sys.stderr)
    report = {'admin': admin, 'produce': produce, 'consume': consume}[args.command](args)
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
