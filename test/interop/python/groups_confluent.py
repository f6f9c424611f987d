#!/usr/bin/python3
"""Drives two confluent-kafka-python 1.7.0 Consumers (Debian's python3-confluent-kafka, on the
system librdkafka) in one consumer group against an Inkwell broker, for
test/interop/groups-confluent.test.ts.

  pair  two Consumers with the same group.id and partition.assignment.strategy subscribe to one
        topic (the second once the first has every partition) and are polled in turn until both
        have partitions, their assignments are disjoint
        and cover the topic, each has read its partitions to the end (partition EOF), and the
        broker describes the group (AdminClient.list_groups) as Stable with the same assignment;
        then each commits synchronously (commit(asynchronous=False)) and reads back committed().

It prints one JSON object (its observations) as the last line of stdout; the Node test makes the
assertions. Errors propagate (exit code 1, traceback on stderr). Run it with /usr/bin/python3:
Debian installs the package only for that interpreter.
"""
import argparse
import json
import struct
import sys
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient


class Member:
    """One Consumer and what it saw: records, partition EOFs, rebalance callbacks, errors."""

    def __init__(self, name, args):
        self.name = name
        self.records = []
        self.eof = {}
        self.events = []
        self.errors = []
        config = connection_config(args, self.errors)
        config.update({
            'client.id': name,
            'group.id': args.group,
            'partition.assignment.strategy': args.strategy,
            'session.timeout.ms': args.session_timeout_ms,
            'heartbeat.interval.ms': 1000,
            'enable.auto.commit': False,
            'auto.offset.reset': 'earliest',
            'enable.partition.eof': True,
            'fetch.wait.max.ms': 100,
        })
        self.consumer = Consumer(config)

    def subscribe(self, topic):
        # The binding assigns (incrementally, for a cooperative assignor) after these return.
        self.consumer.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, consumer, partitions):
        self.events.append(['assign', sorted(p.partition for p in partitions)])

    def on_revoke(self, consumer, partitions):
        self.events.append(['revoke', sorted(p.partition for p in partitions)])
        for p in partitions:
            self.eof.pop(p.partition, None)

    def poll(self, timeout):
        message = self.consumer.poll(timeout)
        if message is None:
            return
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                self.eof[message.partition()] = message.offset()
            else:
                self.errors.append({'code': message.error().code(), 'name': message.error().name(), 'str': message.error().str()})
            return
        self.eof.pop(message.partition(), None)
        self.records.append({'partition': message.partition(), 'offset': message.offset(), 'value': message.value().decode()})

    def assignment(self):
        return sorted(tp.partition for tp in self.consumer.assignment())

    def at_end(self, ends):
        """Whether every assigned partition reported EOF at its end offset."""
        assigned = self.assignment()
        return len(assigned) > 0 and all(self.eof.get(p) == ends[p] for p in assigned)


def connection_config(args, errors):
    config = {
        'bootstrap.servers': args.bootstrap,
        'error_cb': lambda error: errors.append({'code': error.code(), 'name': error.name(), 'str': error.str()}),
        'socket.timeout.ms': 20000,
    }
    if args.cafile:
        config.update({'security.protocol': 'SSL', 'ssl.ca.location': args.cafile})
    if args.debug:
        config['debug'] = args.debug
    return config


def read_string(data, at):
    (length,) = struct.unpack_from('>h', data, at)
    at += 2
    return data[at:at + length].decode(), at + max(length, 0)


def decode_assignment(data):
    """ConsumerProtocolAssignment: version int16, [topic string, [partition int32]], user data."""
    if not data:
        return {}
    at = 2
    (topics,) = struct.unpack_from('>i', data, at)
    at += 4
    out = {}
    for _ in range(topics):
        topic, at = read_string(data, at)
        (count,) = struct.unpack_from('>i', data, at)
        at += 4
        out[topic] = sorted(struct.unpack_from('>%di' % count, data, at))
        at += 4 * count
    return out


def describe_group(admin, group, topic):
    groups = admin.list_groups(group, timeout=10)
    if not groups:
        return None
    g = groups[0]
    return {
        'state': g.state,
        'protocol_type': g.protocol_type,
        'protocol': g.protocol,
        'members': sorted(
            ({'client_id': m.client_id, 'assignment': decode_assignment(m.assignment).get(topic, [])} for m in g.members),
            key=lambda m: m['client_id'],
        ),
    }


def pair(args):
    admin_errors = []
    admin = AdminClient(connection_config(args, admin_errors))
    members = [Member('ck-a', args), Member('ck-b', args)]
    report = {'strategy': args.strategy}
    try:
        metadata = members[0].consumer.list_topics(args.topic, timeout=20)
        partitions = sorted(metadata.topics[args.topic].partitions.keys())
        ends = {p: members[0].consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10)[1] for p in partitions}
        report['partitions'] = partitions
        report['ends'] = {str(p): end for p, end in ends.items()}
        deadline = time.time() + args.timeout
        # The first member joins alone and gets every partition; then the second joins, so that the
        # rebalance has to move partitions away from a member (eagerly, or incrementally).
        members[0].subscribe(args.topic)
        while members[0].assignment() != partitions:
            if time.time() > deadline:
                raise RuntimeError('timed out waiting for the first member to get every partition: events %s, errors %s' % (members[0].events, members[0].errors))
            members[0].poll(0.1)
        members[1].subscribe(args.topic)
        group = None
        next_describe = 0
        while True:
            if time.time() > deadline:
                raise RuntimeError('timed out: assignments %s, eof %s, events %s, group %s, errors %s' % (
                    [m.assignment() for m in members], [m.eof for m in members], [m.events for m in members], group, [m.errors for m in members]))
            for m in members:
                m.poll(0.1)
            a, b = members[0].assignment(), members[1].assignment()
            settled = a and b and not set(a) & set(b) and sorted(a + b) == partitions
            if not settled or not all(m.at_end(ends) for m in members):
                continue
            # The broker's view must agree (checked at most every 300 ms; the members keep polling meanwhile).
            if time.time() < next_describe:
                continue
            next_describe = time.time() + 0.3
            group = describe_group(admin, args.group, args.topic)
            if group and group['state'] == 'Stable' and [m['assignment'] for m in group['members']] == [a, b]:
                break
        report['group'] = group
        for m in members:
            name = m.name
            assigned = m.assignment()
            report[name] = {'assignment': assigned, 'events': list(m.events), 'records': list(m.records)}
            committed = m.consumer.commit(asynchronous=False)
            report[name]['commit'] = {str(tp.partition): tp.offset for tp in committed if tp.topic == args.topic}
            report[name]['commit_errors'] = [tp.partition for tp in committed if tp.error is not None]
            again = m.consumer.committed([TopicPartition(args.topic, p) for p in assigned], timeout=10)
            report[name]['committed'] = {str(tp.partition): tp.offset for tp in again}
            report[name]['committed_errors'] = [tp.partition for tp in again if tp.error is not None]
    finally:
        for m in members:
            m.consumer.close()
    report['errors'] = [e for m in members for e in m.errors] + admin_errors
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['pair'])
    parser.add_argument('--bootstrap', required=True)
    parser.add_argument('--cafile', help='CA certificate; without it, PLAINTEXT')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--group', required=True)
    parser.add_argument('--strategy', default='range', help='partition.assignment.strategy')
    parser.add_argument('--session-timeout-ms', type=int, default=6000)
    parser.add_argument('--timeout', type=int, default=40, help='seconds before giving up')
    parser.add_argument('--debug', help='librdkafka debug contexts, e.g. cgrp,protocol')
    args = parser.parse_args()
    report = pair(args)
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
