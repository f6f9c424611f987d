#!/usr/bin/python3
"""Changes topic configs through the admin clients of kafka-python 2.0.2 and confluent-kafka-python
1.7.0 (Debian's python3-kafka and python3-confluent-kafka, under /usr/bin/python3) and reads them
back with describe_configs.

Each subcommand prints one JSON object (its observations) as the last line of stdout; the Node test
that runs it makes the assertions.

  kafka-python  alter_configs (AlterConfigs) of a topic, describe_configs, an invalid value, and a
                broker resource
  confluent     the same with AdminClient futures
"""
import argparse
import json
import sys

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KafkaPythonResource, ConfigResourceType
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource


def kafka_python(args):
    config = {'bootstrap_servers': args.bootstrap, 'client_id': 'inkwell-kafka-python-admin', 'request_timeout_ms': 20000}
    if args.cafile:
        config.update(security_protocol='SSL', ssl_cafile=args.cafile)
    client = KafkaAdminClient(**config)
    report = {}
    try:
        def alter(resource_type, name, configs):
            response = client.alter_configs([KafkaPythonResource(resource_type, name, configs=configs)])
            return {'version': response.API_VERSION, 'results': [[r[0], r[1]] for r in response.resources]}

        def describe(name):
            responses = client.describe_configs([KafkaPythonResource(ConfigResourceType.TOPIC, name)])
            entries = {}
            for response in responses:
                for resource in response.resources:
                    for entry in resource[4]:
                        entries[entry[0]] = {'value': entry[1], 'default_or_source': entry[3]}
            return {'version': responses[0].API_VERSION, 'entries': entries}

        report['altered'] = alter(ConfigResourceType.TOPIC, args.topic, {'retention.ms': '7200000', 'segment.bytes': '2097152'})
        report['described'] = describe(args.topic)
        report['invalid'] = alter(ConfigResourceType.TOPIC, args.topic, {'retention.ms': 'later'})
        report['broker'] = alter(ConfigResourceType.BROKER, args.broker_id, {'num.partitions': '4'})
        report['replaced'] = alter(ConfigResourceType.TOPIC, args.topic, {'max.message.bytes': '65536'})
        report['described_after_replace'] = describe(args.topic)
    finally:
        client.close()
    return report


def confluent(args):
    config = {'bootstrap.servers': args.bootstrap, 'client.id': 'inkwell-confluent-admin', 'socket.timeout.ms': 20000}
    if args.cafile:
        config.update({'security.protocol': 'SSL', 'ssl.ca.location': args.cafile})
    client = AdminClient(config)
    report = {}

    def alter(resource_type, name, configs):
        futures = client.alter_configs([ConfigResource(resource_type, name, set_config=configs)], request_timeout=20)
        out = {}
        for resource, future in futures.items():
            try:
                future.result(timeout=20)
                out[resource.name] = None
            except KafkaException as e:
                out[resource.name] = {'name': e.args[0].name(), 'str': e.args[0].str()}
        return out

    def describe(name):
        futures = client.describe_configs([ConfigResource('topic', name)], request_timeout=20)
        entries = {}
        for resource, future in futures.items():
            for key, entry in future.result(timeout=20).items():
                entries[key] = {'value': entry.value, 'source': entry.source.value if hasattr(entry.source, 'value') else entry.source, 'is_default': entry.is_default}
        return entries

    report['altered'] = alter('topic', args.topic, {'retention.ms': '7200000', 'segment.bytes': '2097152'})
    report['described'] = describe(args.topic)
    report['invalid'] = alter('topic', args.topic, {'retention.ms': 'later'})
    report['broker'] = alter('broker', args.broker_id, {'num.partitions': '4'})
    report['replaced'] = alter('topic', args.topic, {'max.message.bytes': '65536'})
    report['described_after_replace'] = describe(args.topic)
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['kafka-python', 'confluent'])
    parser.add_argument('--bootstrap', required=True)
    parser.add_argument('--cafile', help='CA certificate; without it, PLAINTEXT')
    parser.add_argument('--topic', required=True)
    parser.add_argument('--broker-id', default='1')
    args = parser.parse_args()
    report = kafka_python(args) if args.command == 'kafka-python' else confluent(args)
    sys.stdout.write(json.dumps(report) + '\n')


if __name__ == '__main__':
    main()
