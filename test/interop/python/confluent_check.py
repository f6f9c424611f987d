#!/usr/bin/python3
"""Drives confluent-kafka-python 1.7.0 (Debian's python3-confluent-kafka, on the system
librdkafka) against an Inkwell broker.

Each subcommand does one job and prints one JSON object (its observations) as the last line of
stdout; the Node test that runs it makes the assertions. Errors propagate (exit code 1, traceback
on stderr). Run it with /usr/bin/python3: Debian installs the package only for that interpreter.

  admin    create two topics (futures), create one again, list, describe configs, add a
           partition to one, delete it, list again
  produce  send --count keyed records with headers (idempotence off), flush, report every
           delivery report (partition, offset, error)
  consume  assign every partition at OFFSET_BEGINNING with a group.id set but no subscribe and
           no commit; read to the end of each partition (partition EOF events)
"""
import argparse
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


class Events:
    """Collects error callbacks and librdkafka log lines so the report can show them."""

    def __init__(self):
        self.errors = []
        self.logs = []

    def error(self, error):
        self.errors.append({'code': error.code(), 'name': error.name(), 'str': error.str()})

    def log(self, record):
        self.logs.append(record.getMessage())


class LogSink:
    """A logging.Logger stand-in: librdkafka calls .log(level, fmt, *args)."""

    def __init__(self, events):
        self.events = events

    def log(self, level, fmt, *args):
        self.events.logs.append((fmt % args) if args else fmt)


def connection_config(args, events):
    config = {
        'bootstrap.servers': args.bootstrap,
        'client.id': 'inkwell-confluent',
        'error_cb': events.error,
        'logger': LogSink(events),
        'socket.timeout.ms': 20000,
    }
    if args.cafile:
        config.update({'security.protocol': 'SSL', 'ssl.ca.location': args.cafile})
    if args.debug:
        config['debug'] = args.debug
    return config


def error_of(future, timeout=20):
    """None when the future succeeds, else the KafkaError name."""
    try:
        future.result(timeout=timeout)
        return None
    except KafkaException as e:
        return e.args[0].name()


def topic_shape(metadata, names):
    return {
        name: (sorted(metadata.topics[name].partitions.keys()) if name in metadata.topics else None)
        for name in names
    }


def admin(args):
    events = Events()
    client = AdminClient(connection_config(args, events))
    report = {}
    futures = client.create_topics([
        NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1),
        NewTopic(args.doomed, num_partitions=1, replication_factor=1, config={'retention.ms': '3600000'}),
    ], operation_timeout=10, request_timeout=20)
    report['created'] = {name: error_of(f) for name, f in futures.items()}
    again = client.create_topics([NewTopic(args.topic, num_partitions=args.partitions, replication_factor=1)], request_timeout=20)
    report['created_again'] = {name: error_of(f) for name, f in again.items()}
    metadata = client.list_topics(timeout=20)
    report['listed'] = sorted(metadata.topics.keys())
    report['brokers'] = sorted(metadata.brokers.keys())
    report['controller_id'] = metadata.controller_id
    report['shape'] = topic_shape(metadata, [args.topic, args.doomed])
    configs = client.describe_configs([ConfigResource('topic', args.doomed)], request_timeout=20)
    for resource, future in configs.items():
        entries = future.result(timeout=20)
        report['doomed_configs'] = {name: entry.value for name, entry in entries.items()}
    grown = client.create_partitions([NewPartitions(args.doomed, 2)], request_timeout=20)
    report['grown'] = {name: error_of(f) for name, f in grown.items()}
    report['shape_after_grow'] = topic_shape(client.list_topics(timeout=20), [args.doomed])
    deleted = client.delete_topics([args.doomed], operation_timeout=10, request_timeout=20)
    report['deleted'] = {name: error_of(f) for name, f in deleted.items()}
    after = client.list_topics(timeout=20)
    report['listed_after_delete'] = sorted(after.topics.keys())
    report['errors'] = events.errors
    return report


def produce(args):
    events = Events()
    config = connection_config(args, events)
    config.update({'enable.idempotence': False, 'acks': args.acks, 'linger.ms': 5, 'compression.type': args.compression})
    producer = Producer(config)
    reports = []

    def delivered(error, message):
        reports.append({
            'error': None if error is None else error.name(),
            'partition': message.partition(),
            'offset': message.offset(),
            'key': message.key().decode(),
        })

    for i in range(args.count):
        key = '%s-k%d' % (args.tag, i)
        value = '%s-v%d-%s' % (args.tag, i, 'y' * (i % 41))
        headers = [('tag', args.tag.encode()), ('i', str(i).encode())]
        while True:
            try:
                producer.produce(args.topic, key=key.encode(), value=value.encode(), headers=headers, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(30)
    return {'remaining': remaining, 'deliveries': reports, 'errors': events.errors}


def consume(args):
    events = Events()
    config = connection_config(args, events)
    config.update({
        'group.id': 'inkwell-assign-only',
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': True,
        'auto.offset.reset': 'error',
        'fetch.wait.max.ms': 200,
    })
    consumer = Consumer(config)
    report = {}
    try:
        metadata = consumer.list_topics(args.topic, timeout=20)
        partitions = sorted(metadata.topics[args.topic].partitions.keys())
        report['partitions'] = partitions
        consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
        records = []
        at_end = set()
        deadline = time.time() + 30
        while len(at_end) < len(partitions) and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
                else:
                    events.errors.append({'code': message.error().code(), 'name': message.error().name(), 'str': message.error().str()})
                continue
            at_end.discard(message.partition())
            records.append({
                'partition': message.partition(),
                'offset': message.offset(),
                'key': None if message.key() is None else message.key().decode(),
                'value': None if message.value() is None else message.value().decode(),
                'headers': [[k, v.decode()] for k, v in (message.headers() or [])],
            })
        report['eof'] = sorted(at_end)
        report['records'] = records
        report['watermarks'] = {str(p): list(consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10)) for p in partitions}
    finally:
        consumer.close()
    report['errors'] = events.errors
    # librdkafka runs its group machinery whenever group.id is set; keep what it said about the coordinator.
    coordinator = []
    for line in events.logs:
        if 'oordinator' in line and line not in coordinator:
            coordinator.append(line)
    report['coordinator_logs'] = coordinator[:20]
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['admin', 'produce', 'consume'])
    parser.add_argument('--bootstrap', required=True)
    parser.add_argument('--cafile', help='CA certificate; without it, PLAINTEXT')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--partitions', type=int, default=3)
    parser.add_argument('--doomed', default='confluent-doomed')
    parser.add_argument('--acks', default='all', choices=['0', '1', 'all', '-1'])
    parser.add_argument('--compression', default='none')
    parser.add_argument('--count', type=int, default=100)
    parser.add_argument('--tag', default='ck')
    parser.add_argument('--debug', help='librdkafka debug contexts, e.g. cgrp,protocol')
    args = parser.parse_args()
    report = {'admin': admin, 'produce': produce, 'consume': consume}[args.command](args)
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
