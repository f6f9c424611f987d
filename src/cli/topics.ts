/**
 * `inkwell topics list|create|delete|describe|alter`: topic administration with the bundled
 * Admin client. `alter` raises the partition count (CreatePartitions) and sets or removes
 * topic configs (IncrementalAlterConfigs).
 */
import { Type } from '@sinclair/typebox';
import { Admin, type TopicDescription } from '../client/admin.js';
import { asCliError, checkBootstrap, clientFlagProperties, clientFlagsUsage, clientOptionsFromFlags, splitAssignment, timeoutOf, withDeadline } from './client-flags.js';
import { UsageError } from './errors.js';
import { parseFlags } from './flags.js';

const actions = ['list', 'create', 'delete', 'describe', 'alter'] as const;
type Action = (typeof actions)[number];

const TopicsFlags = Type.Object({
  topic: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { short: 't' })),
  partitions: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', expected: 'a whole number of partitions' })),
  'replication-factor': Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', expected: 'a whole number' })),
  config: Type.Optional(Type.Array(Type.String())),
  'delete-config': Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  'if-not-exists': Type.Optional(Type.Boolean()),
  'if-exists': Type.Optional(Type.Boolean()),
  internal: Type.Optional(Type.Boolean()),
  ...clientFlagProperties,
});

export const topicsUsage = `Usage: inkwell topics <list|create|delete|describe|alter> [options]

  list                                   topic names, one per line
  create -t NAME [--partitions N] [--replication-factor N] [--config K=V]... [--if-not-exists]
  delete -t NAME [--if-exists]
  describe [-t NAME]...                  partitions, leaders, replicas and non-default configs
                                         (every topic when no -t)
  alter -t NAME [--partitions N] [--config K=V]... [--delete-config K]...
                                         raise the partition count to N; set or reset configs

Options:
  -t, --topic NAME          a topic (repeatable for delete and describe)
  --partitions N            partition count (create: default the broker's num.partitions)
  --replication-factor N    replicas per partition (default the broker's)
  --config KEY=VALUE        a topic config for create or alter (repeatable)
  --delete-config KEY       alter: return a config to its default (repeatable)
  --if-not-exists           create: succeed when the topic exists
  --if-exists               delete: succeed when the topic does not exist
  --internal                list: include internal topics

${clientFlagsUsage}`;

function describe(topic: TopicDescription, configs: { name: string; value: string | null }[]): string {
  const lines = [`Topic: ${topic.name}\tPartitions: ${topic.partitions.length}${topic.internal ? '\tInternal' : ''}${configs.length > 0 ? `\tConfigs: ${configs.map((c) => `${c.name}=${c.value ?? ''}`).join(',')}` : ''}`];
  for (const partition of topic.partitions) {
    lines.push(`\tPartition: ${partition.partition}\tLeader: ${partition.leader}\tReplicas: ${partition.replicas.join(',')}\tIsr: ${partition.isr.join(',')}`);
  }
  return lines.join('\n') + '\n';
}

/** `inkwell topics ...`; returns the exit code. */
export async function runTopics(args: readonly string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(topicsUsage);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) {
    const flags = parseFlags('topics', args, TopicsFlags);
    if (flags.help === true) {
      process.stdout.write(topicsUsage);
      return 0;
    }
    throw new UsageError('topics: missing action: list, create, delete, describe or alter (see inkwell topics --help)');
  }
  if (!(actions as readonly string[]).includes(first)) throw new UsageError(`topics: unknown action ${JSON.stringify(first)}: list, create, delete, describe or alter`);
  const action = first as Action;
  const flags = parseFlags(`topics ${action}`, rest, TopicsFlags);
  if (flags.help === true) {
    process.stdout.write(topicsUsage);
    return 0;
  }
  const command = `topics ${action}`;
  const topics = flags.topic ?? [];
  const needOne = action === 'create' || action === 'alter';
  if (needOne && topics.length !== 1) throw new UsageError(`${command}: exactly one --topic is needed`);
  if (action === 'delete' && topics.length === 0) throw new UsageError(`${command}: --topic is needed`);
  if (action === 'alter' && flags.partitions === undefined && flags.config === undefined && flags['delete-config'] === undefined) {
    throw new UsageError(`${command}: nothing to change: give --partitions, --config or --delete-config`);
  }
  if (action !== 'create' && flags['replication-factor'] !== undefined) throw new UsageError(`${command}: --replication-factor is for create`);
  if (action !== 'create' && action !== 'alter' && flags.config !== undefined) throw new UsageError(`${command}: --config is for create and alter`);
  if (action !== 'alter' && flags['delete-config'] !== undefined) throw new UsageError(`${command}: --delete-config is for alter`);
  const configs = Object.fromEntries((flags.config ?? []).map((text) => splitAssignment(command, 'config', text)));
  const options = clientOptionsFromFlags('topics', flags);
  checkBootstrap(command, options);
  const admin = new Admin(options);
  const timeoutMs = timeoutOf(flags);
  try {
    await withDeadline(command, timeoutMs, `connecting to ${String(options.bootstrap)}`, () => admin.connect());
    switch (action) {
      case 'list': {
        const names = await admin.listTopics({ includeInternal: flags.internal === true });
        process.stdout.write(names.map((name) => `${name}\n`).join(''));
        return 0;
      }
      case 'create':
        await admin.createTopics(
          [
            {
              topic: topics[0]!,
              ...(flags.partitions !== undefined ? { numPartitions: Number(flags.partitions) } : {}),
              ...(flags['replication-factor'] !== undefined ? { replicationFactor: Number(flags['replication-factor']) } : {}),
              configs,
            },
          ],
          { ifNotExists: flags['if-not-exists'] === true },
        );
        process.stdout.write(`created ${topics[0]}\n`);
        return 0;
      case 'delete':
        await admin.deleteTopics(topics, { ifExists: flags['if-exists'] === true });
        for (const topic of topics) process.stdout.write(`deleted ${topic}\n`);
        return 0;
      case 'describe': {
        const names = topics.length > 0 ? topics : await admin.listTopics({ includeInternal: flags.internal === true });
        for (const topic of await admin.describeTopics(names)) {
          const entries = await admin.describeConfigs({ type: 'topic', name: topic.name }).catch(() => []);
          process.stdout.write(describe(topic, entries.filter((entry) => !entry.isDefault)));
        }
        return 0;
      }
      case 'alter': {
        const topic = topics[0]!;
        if (flags.partitions !== undefined) {
          await admin.createPartitions([{ topic, count: Number(flags.partitions) }]);
          process.stdout.write(`${topic} now has ${flags.partitions} partitions\n`);
        }
        const changes: Record<string, string | null> = { ...configs };
        for (const name of flags['delete-config'] ?? []) changes[name] = null;
        if (Object.keys(changes).length > 0) {
          await admin.alterConfigs({ type: 'topic', name: topic }, changes);
          process.stdout.write(`${topic} configs changed: ${Object.entries(changes).map(([name, value]) => (value === null ? `${name} (default)` : `${name}=${value}`)).join(', ')}\n`);
        }
        return 0;
      }
    }
  } catch (error) {
    throw asCliError(command, error);
  } finally {
    await admin.close();
  }
}
