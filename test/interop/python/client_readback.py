#!/usr/bin/python3
"""kafka-python 2.0.2 (Debian's python3-kafka) reading what Inkwell's own client wrote, and
writing what Inkwell's client reads back (test/interop/client-readback.test.ts).

Keys, values and header values travel as hex strings (null stays null), so every byte is
compared exactly. Each subcommand prints one JSON object as the last line of stdout. Run it with
/usr/bin/python3: Debian installs the package only for that interpreter.

  codecs   which compression codecs this kafka-python can use (Debian's build: gzip only, as
           python3-snappy, python3-lz4 and python3-zstandard are not its dependencies)
  consume  no group: assign every partition of --topic, seek_to_beginning, read up to the end
           offsets; report every record with its timestamp and timestamp type
  produce  send the records of the JSON file --records (partition, key, value, headers,
           timestamp) with --compression, flush, report each record's metadata
"""
import argparse
import json
import logging
import sys
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka import codec as kafka_codec

from kafka_python_common import assign_all_from_start


def connection_config(args):
    return {
        'bootstrap_servers': args.bootstrap,
        'client_id': 'inkwell-readback',
        'request_timeout_ms': 20000,
        'security_protocol': 'SSL',
        'ssl_cafile': args.cafile,
    }


def from_hex(text):
    return None if text is None else bytes.fromhex(text)


def to_hex(data):
    return None if data is None else data.hex()


def codecs(args):
    return {'codecs': {
        'none': True,
        'gzip': kafka_codec.has_gzip(),
        'snappy': kafka_codec.has_snappy(),
        'lz4': kafka_codec.has_lz4(),
        'zstd': kafka_codec.has_zstd(),
    }}


def consume(args):
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_wait_ms=200, **connection_config(args))
    try:
        tps = assign_all_from_start(consumer, args.topic)
        end = consumer.end_offsets(tps)
        records = []
        deadline = time.time() + 40
        while time.time() < deadline and not all(consumer.position(tp) >= offset for tp, offset in end.items()):
            for messages in consumer.poll(timeout_ms=500, max_records=1000).values():
                for m in messages:
                    records.append({
                        'partition': m.partition,
                        'offset': m.offset,
                        'timestamp': m.timestamp,
                        'timestamp_type': m.timestamp_type,
                        'key': to_hex(m.key),
                        'value': to_hex(m.value),
                        'headers': [[k, to_hex(v)] for k, v in m.headers],
                    })
        return {'end': {str(tp.partition): offset for tp, offset in end.items()}, 'records': records}
    finally:
        consumer.close()


def produce(args):
    with open(args.records) as f:
        records = json.load(f)
    compression = None if args.compression == 'none' else args.compression
    producer = KafkaProducer(acks='all', linger_ms=20, retries=0, compression_type=compression, **connection_config(args))
    try:
        futures = [
            producer.send(
                args.topic,
                partition=r['partition'],
                key=from_hex(r['key']),
                value=from_hex(r['value']),
                headers=[(k, from_hex(v)) for k, v in r['headers']],
                timestamp_ms=r['timestamp'],
            )
            for r in records
        ]
        producer.flush(timeout=30)
        results = []
        for future in futures:
            metadata = future.get(timeout=30)
            results.append({'partition': metadata.partition, 'offset': metadata.offset, 'timestamp': metadata.timestamp})
        return {'results': results}
    finally:
        producer.close(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['codecs', 'consume', 'produce'])
    parser.add_argument('--bootstrap')
    parser.add_argument('--cafile')
    parser.add_argument('--topic')
    parser.add_argument('--records', help='produce: a JSON file of records')
    parser.add_argument('--compression', default='none')
    parser.add_argument('--debug', action='store_true')
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR, stream=sys.stderr)
    report = {'codecs': codecs, 'consume': consume, 'produce': produce}[args.command](args)
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
