#!/usr/bin/python3
"""Drives a kafka-python 2.0.2 (Debian's python3-kafka) KafkaConsumer in a consumer group against
an Inkwell broker, for test/interop/groups-kafka-python.test.ts.

One subcommand, run several times by the test with the same group: subscribe (group_id set, auto
commit off, auto_offset_reset earliest), poll one record at a time until --count records were
returned (or, with --count -1, until the position of every assigned partition reaches its end
offset), commit() synchronously, read back committed() for every assigned partition, close (which
leaves the group). It prints one JSON object (its observations) as the last line of stdout; the
Node test makes the assertions. Errors propagate (exit code 1, traceback on stderr). Run it with
/usr/bin/python3: Debian installs the package only for that interpreter.
"""
import argparse
import json
import logging
import sys
import time

from kafka import KafkaConsumer


def consume(args):
    config = {
        'bootstrap_servers': args.bootstrap,
        'client_id': args.client_id,
        'group_id': args.group,
        'enable_auto_commit': False,
        'auto_offset_reset': 'earliest',
        'session_timeout_ms': args.session_timeout_ms,
        'heartbeat_interval_ms': 1000,
        'fetch_max_wait_ms': 100,
        'request_timeout_ms': 20000,
    }
    if args.cafile:
        config.update(security_protocol='SSL', ssl_cafile=args.cafile)
    consumer = KafkaConsumer(**config)
    report = {'group': args.group}
    try:
        consumer.subscribe([args.topic])
        records = []
        end = None
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            if args.count >= 0 and len(records) >= args.count:
                break
            assignment = consumer.assignment()
            if args.count < 0 and assignment:
                if end is None or set(end.keys()) != assignment:
                    end = consumer.end_offsets(list(assignment))
                if all(consumer.position(tp) >= offset for tp, offset in end.items()):
                    break
            # One record at a time, so that exactly --count records are consumed (and committed).
            batch = consumer.poll(timeout_ms=300, max_records=1 if args.count >= 0 else 500)
            for messages in batch.values():
                for m in messages:
                    records.append({'partition': m.partition, 'offset': m.offset, 'value': m.value.decode()})
        else:
            raise RuntimeError('timed out after %d s with %d records; assignment %s' % (args.timeout, len(records), consumer.assignment()))
        assignment = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        report['assignment'] = [tp.partition for tp in assignment]
        report['positions'] = {str(tp.partition): consumer.position(tp) for tp in assignment}
        consumer.commit()
        report['committed'] = {str(tp.partition): consumer.committed(tp) for tp in assignment}
        report['records'] = records
    finally:
        consumer.close(autocommit=False)
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['consume'])
    parser.add_argument('--bootstrap', required=True)
    parser.add_argument('--cafile', help='CA certificate; without it, PLAINTEXT')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--group', required=True)
    parser.add_argument('--client-id', default='inkwell-kafka-python-group')
    parser.add_argument('--count', type=int, default=-1, help='records to consume; -1: up to the end offsets')
    parser.add_argument('--session-timeout-ms', type=int, default=6000)
    parser.add_argument('--timeout', type=int, default=40, help='seconds before giving up')
    parser.add_argument('--debug', action='store_true')
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR, stream=sys.stderr)
    report = consume(args)
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
