#!/usr/bin/python3
"""Produces with confluent-kafka-python 1.7.0 (Debian's python3-confluent-kafka on librdkafka, under
/usr/bin/python3) with enable.idempotence=true, and reports every delivery.

Prints one JSON object as the last line of stdout: the delivery reports (partition, offset, error,
index of the record), the number of records still unflushed, and error callbacks; the Node test
that runs it makes the assertions (contiguous offsets, nothing lost or doubled when read back).

Record i has key "<tag>-<i % keys>" and value "<tag>-<i>".
"""
import argparse
import json
import sys
import time

from confluent_kafka import Producer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--bootstrap', required=True)
    parser.add_argument('--cafile', help='CA certificate; without it, PLAINTEXT')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--tag', required=True)
    parser.add_argument('--count', type=int, required=True)
    parser.add_argument('--keys', type=int, default=16)
    parser.add_argument('--timeout', type=float, default=120)
    parser.add_argument('--batch-messages', type=int, help="librdkafka's batch.num.messages")
    parser.add_argument('--reconnect-backoff-max-ms', type=int,
                        help="librdkafka's reconnect.backoff.max.ms (it doubles the wait after every lost connection, up to 10 s by default)")
    args = parser.parse_args()

    errors = []
    logs = []
    config = {
        'bootstrap.servers': args.bootstrap,
        'client.id': 'inkwell-confluent-idempotent',
        'enable.idempotence': True,
        'acks': 'all',
        'linger.ms': 5,
        'compression.type': 'none',
        'socket.timeout.ms': 20000,
        'message.timeout.ms': int(args.timeout * 1000),
        'error_cb': lambda e: errors.append({'code': e.code(), 'name': e.name(), 'str': e.str(), 'fatal': e.fatal()}),
        'logger': type('Sink', (), {'log': lambda self, level, fmt, *a: logs.append((fmt % a) if a else fmt)})(),
    }
    if args.cafile:
        config.update({'security.protocol': 'SSL', 'ssl.ca.location': args.cafile})
    if args.batch_messages:
        config['batch.num.messages'] = args.batch_messages
    if args.reconnect_backoff_max_ms:
        config.update({'reconnect.backoff.ms': min(100, args.reconnect_backoff_max_ms), 'reconnect.backoff.max.ms': args.reconnect_backoff_max_ms})
    producer = Producer(config)
    deliveries = []

    def delivered(error, message):
        deliveries.append({
            'error': None if error is None else error.name(),
            'partition': message.partition(),
            'offset': message.offset(),
            'i': int(message.value().decode().rsplit('-', 1)[1]),
        })

    started = time.time()
    for i in range(args.count):
        key = '%s-%d' % (args.tag, i % args.keys)
        value = '%s-%d' % (args.tag, i)
        while True:
            try:
                producer.produce(args.topic, key=key.encode(), value=value.encode(), on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(args.timeout)
    report = {
        'remaining': remaining,
        'deliveries': deliveries,
        'errors': errors,
        'seconds': round(time.time() - started, 2),
        'idempotence_logs': [line for line in logs if 'dempoten' in line or 'PID' in line][:20],
    }
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
