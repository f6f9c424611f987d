/**
 * `inkwell groups list|describe|delete|reset-offsets`: consumer group administration with the
 * bundled Admin client, after Kafka's kafka-consumer-groups.sh. `describe` shows the state, the
 * members and, per partition, the committed offset, the log end offset and the lag.
 * `reset-offsets` prints its plan and changes nothing unless given --execute; like Kafka's tool
 * it refuses a group that still has members.
 */
import { Type } from '@sinclair/typebox';
import { Admin, type GroupDescription, type GroupMemberDescription, type OffsetSpec } from '../client/admin.js';
import { KafkaError } from '../client/errors.js';
import { asCliError, checkBootstrap, clientFlagProperties, clientFlagsUsage, clientOptionsFromFlags, timeoutOf, withDeadline } from './client-flags.js';
import { CliError, UsageError } from './errors.js';
import { parseFlags } from './flags.js';

const actions = ['list', 'describe', 'delete', 'reset-offsets'] as const;
type Action = (typeof actions)[number];

const GroupsFlags = Type.Object({
  group: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { short: 'g' })),
  topic: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { short: 't' })),
  'all-topics': Type.Optional(Type.Boolean()),
  'to-earliest': Type.Optional(Type.Boolean()),
  'to-latest': Type.Optional(Type.Boolean()),
  'to-offset': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', expected: 'an offset (a whole number)' })),
  'to-datetime': Type.Optional(Type.String({ minLength: 1, expected: 'an ISO 8601 date and time' })),
  'shift-by': Type.Optional(Type.String({ pattern: '^[+-]?[0-9]{1,15}$', expected: 'a whole number, possibly negative' })),
  'dry-run': Type.Optional(Type.Boolean()),
  execute: Type.Optional(Type.Boolean()),
  json: Type.Optional(Type.Boolean()),
  ...clientFlagProperties,
});

export const groupsUsage = `Usage: inkwell groups <list|describe|delete|reset-offsets> [options]

  list                                   group ids, one per line
  describe -g GROUP...                   state, protocol, members and their partitions, and per
                                         partition the committed offset, log end offset and lag
  delete -g GROUP...                     delete groups that have no members, with their offsets
  reset-offsets -g GROUP... (-t TOPIC[:P,P...]... | --all-topics)
                (--to-earliest | --to-latest | --to-offset N | --to-datetime ISO | --shift-by N)
                [--dry-run | --execute]
                                         print the new offsets; set them only with --execute
                                         (the group must have no members)

Options:
  -g, --group ID            a consumer group (repeatable)
  -t, --topic TOPIC[:P,P]   reset-offsets: a topic, all its partitions or the ones listed (repeatable)
  --all-topics              reset-offsets: every topic the group has committed offsets for
  --to-earliest             reset to the log start offset
  --to-latest               reset to the log end offset
  --to-offset N             reset to offset N (kept within the log start and end)
  --to-datetime ISO         reset to the first record at or after a time, e.g. 2024-05-01T12:00:00Z
                            (local time without a zone; the log end when no record is that late)
  --shift-by N              move the committed offset by N, which may be negative (kept within
                            the log start and end); use --shift-by=-N or --shift-by -N
  --dry-run                 reset-offsets: only print the plan (the default)
  --execute                 reset-offsets: commit the new offsets
  --json                    list, describe, reset-offsets: one JSON object per line

${clientFlagsUsage}`;

type Flags = ReturnType<typeof parseGroupsFlags>;

function parseGroupsFlags(command: string, args: readonly string[]) {
  return parseFlags(command, joinNegativeShift(args), GroupsFlags);
}

/** `--shift-by -3` as `--shift-by=-3` (parseArgs takes a value starting with '-' for an option). */
function joinNegativeShift(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i] === '--shift-by' && next !== undefined && /^-[0-9]+$/.test(next)) {
      out.push(`--shift-by=${next}`);
      i++;
    } else out.push(args[i]!);
  }
  return out;
}

const resetScenarios = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime', 'shift-by'] as const;
type Scenario = (typeof resetScenarios)[number];

/** An ISO 8601 date, or date and time with an optional zone (without one it is local time, as in Kafka's tool). */
const isoDateTime = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function parseDateTime(command: string, text: string): number {
  // A date alone is local midnight (Date.parse would read it as UTC); sub-millisecond digits are dropped.
  const normalized = (/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00` : text).replace(/(\.\d{3})\d+/, '$1').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const time = isoDateTime.test(text) ? Date.parse(normalized) : NaN;
  if (!Number.isFinite(time)) throw new UsageError(`${command}: --to-datetime must be an ISO 8601 date and time (e.g. 2024-05-01T12:00:00Z), got ${JSON.stringify(text)}`);
  if (time < 0) throw new UsageError(`${command}: --to-datetime must be after 1970, got ${JSON.stringify(text)}`);
  return time;
}

interface TopicSelection {
  readonly topic: string;
  /** undefined: every partition of the topic. */
  readonly partitions: readonly number[] | undefined;
}

function parseTopicSelection(command: string, text: string): TopicSelection {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { topic: text, partitions: undefined };
  const topic = text.slice(0, colon);
  const list = text.slice(colon + 1);
  if (topic.length === 0 || !/^[0-9]{1,9}(,[0-9]{1,9})*$/.test(list)) throw new UsageError(`${command}: --topic must be TOPIC or TOPIC:P[,P...], got ${JSON.stringify(text)}`);
  return { topic, partitions: [...new Set(list.split(',').map(Number))].sort((a, b) => a - b) };
}

/** Rows as columns separated by two spaces, each as wide as its widest cell (Kafka's tables). */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

function dash(value: number | string | null): string {
  return value === null || value === '' ? '-' : String(value);
}

function assignmentText(member: GroupMemberDescription): string {
  return member.assignment.map((a) => `${a.topic}:${[...a.partitions].sort((x, y) => x - y).join(',')}`).join(' ');
}

interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: number | null;
  readonly logEndOffset: number | null;
  readonly lag: number | null;
  readonly member: GroupMemberDescription | null;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The group's partitions (committed or assigned) with their offsets, log end offsets and lag. */
async function lagOf(admin: Admin, group: GroupDescription): Promise<PartitionLag[]> {
  const committed = new Map<string, number>();
  const owners = new Map<string, GroupMemberDescription>();
  const partitions = new Map<string, { topic: string; partition: number }>();
  for (const offset of await admin.fetchOffsets(group.groupId)) {
    if (offset.offset < 0) continue;
    committed.set(partitionKey(offset.topic, offset.partition), offset.offset);
    partitions.set(partitionKey(offset.topic, offset.partition), { topic: offset.topic, partition: offset.partition });
  }
  for (const member of group.members) {
    for (const { topic, partitions: assigned } of member.assignment) {
      for (const partition of assigned) {
        owners.set(partitionKey(topic, partition), member);
        partitions.set(partitionKey(topic, partition), { topic, partition });
      }
    }
  }
  const sorted = [...partitions.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const ends = new Map<string, number>();
  // One topic at a time, so a deleted topic (offsets can outlive it) leaves only its own ends unknown.
  for (const topic of new Set(sorted.map((p) => p.topic))) {
    try {
      for (const end of await admin.listOffsets(
        sorted.filter((p) => p.topic === topic),
        'latest',
      )) {
        ends.set(partitionKey(end.topic, end.partition), end.offset);
      }
    } catch (error) {
      if (!(error instanceof KafkaError) || error.errorName !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
    }
  }
  return sorted.map(({ topic, partition }) => {
    const key = partitionKey(topic, partition);
    const committedOffset = committed.get(key) ?? null;
    const logEndOffset = ends.get(key) ?? null;
    return {
      topic,
      partition,
      committedOffset,
      logEndOffset,
      lag: committedOffset !== null && logEndOffset !== null ? Math.max(0, logEndOffset - committedOffset) : null,
      member: owners.get(key) ?? null,
    };
  });
}

function describeText(group: GroupDescription, lag: readonly PartitionLag[]): string {
  let text = table(['GROUP', 'STATE', 'PROTOCOL-TYPE', 'PROTOCOL', 'MEMBERS'], [[group.groupId, group.state, dash(group.protocolType), dash(group.protocol), String(group.members.length)]]);
  text += '\n';
  if (group.members.length === 0) text += `Consumer group '${group.groupId}' has no active members.\n`;
  else {
    text += table(
      ['GROUP', 'MEMBER-ID', 'CLIENT-ID', 'HOST', 'PARTITIONS'],
      group.members.map((m) => [group.groupId, m.memberId, dash(m.clientId), dash(m.clientHost), dash(assignmentText(m))]),
    );
  }
  text += '\n';
  text += table(
    ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
    lag.map((p) => [group.groupId, p.topic, String(p.partition), dash(p.committedOffset), dash(p.logEndOffset), dash(p.lag), dash(p.member?.memberId ?? null), dash(p.member?.clientHost ?? null), dash(p.member?.clientId ?? null)]),
  );
  return text;
}

function describeJson(group: GroupDescription, lag: readonly PartitionLag[]): string {
  return (
    JSON.stringify({
      group: group.groupId,
      state: group.state,
      protocolType: group.protocolType,
      protocol: group.protocol,
      members: group.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost, assignment: m.assignment })),
      offsets: lag.map((p) => ({ topic: p.topic, partition: p.partition, committedOffset: p.committedOffset, logEndOffset: p.logEndOffset, lag: p.lag, memberId: p.member?.memberId ?? null })),
    }) + '\n'
  );
}

async function describeExisting(admin: Admin, command: string, groupId: string): Promise<GroupDescription> {
  const [group] = await admin.describeGroups([groupId]);
  if (group === undefined || group.state === 'Dead') throw new CliError(`${command}: group ${groupId} does not exist (GROUP_ID_NOT_FOUND)`);
  return group;
}

interface PlannedOffset {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly currentOffset: number | null;
  readonly newOffset: number;
}

/** Kafka's reset plan: the new offset of each selected partition, kept within the log start and end. */
async function planReset(admin: Admin, command: string, groupId: string, selections: readonly TopicSelection[], scenario: Scenario, flags: Flags): Promise<PlannedOffset[]> {
  const current = new Map<string, number>();
  for (const offset of await admin.fetchOffsets(groupId)) if (offset.offset >= 0) current.set(partitionKey(offset.topic, offset.partition), offset.offset);
  const targets: { topic: string; partition: number }[] = [];
  for (const selection of selections) {
    const [description] = await admin.describeTopics([selection.topic]);
    const existing = description!.partitions.map((p) => p.partition).sort((a, b) => a - b);
    for (const partition of selection.partitions ?? existing) {
      if (!existing.includes(partition)) throw new UsageError(`${command}: ${selection.topic} has ${existing.length} partitions; there is no partition ${partition}`);
      if (!targets.some((t) => t.topic === selection.topic && t.partition === partition)) targets.push({ topic: selection.topic, partition });
    }
  }
  const starts = new Map((await admin.listOffsets(targets, 'earliest')).map((o) => [partitionKey(o.topic, o.partition), o.offset]));
  const ends = new Map((await admin.listOffsets(targets, 'latest')).map((o) => [partitionKey(o.topic, o.partition), o.offset]));
  const clamp = (key: string, offset: number): number => Math.min(ends.get(key)!, Math.max(starts.get(key)!, offset));
  let byTime: Map<string, number> | undefined;
  if (scenario === 'to-datetime') {
    const spec: OffsetSpec = { timestamp: parseDateTime(command, flags['to-datetime']!) };
    byTime = new Map((await admin.listOffsets(targets, spec)).map((o) => [partitionKey(o.topic, o.partition), o.offset]));
  }
  return targets.map(({ topic, partition }) => {
    const key = partitionKey(topic, partition);
    const currentOffset = current.get(key) ?? null;
    let newOffset: number;
    switch (scenario) {
      case 'to-earliest':
        newOffset = starts.get(key)!;
        break;
      case 'to-latest':
        newOffset = ends.get(key)!;
        break;
      case 'to-offset':
        newOffset = clamp(key, Number(flags['to-offset']));
        break;
      case 'to-datetime': {
        const found = byTime!.get(key)!;
        newOffset = found >= 0 ? found : ends.get(key)!;
        break;
      }
      case 'shift-by':
        if (currentOffset === null) throw new CliError(`${command}: group ${groupId} has no committed offset for ${topic}:${partition} to shift`);
        newOffset = clamp(key, currentOffset + Number(flags['shift-by']));
        break;
    }
    return { group: groupId, topic, partition, currentOffset, newOffset };
  });
}

function checkFlags(action: Action, command: string, flags: Flags): void {
  const groups = flags.group ?? [];
  const scenarios = resetScenarios.filter((name) => flags[name] !== undefined && flags[name] !== false);
  if (action === 'list' && groups.length > 0) throw new UsageError(`${command}: --group is for describe, delete and reset-offsets`);
  if (action !== 'list' && groups.length === 0) throw new UsageError(`${command}: --group is needed`);
  if (action === 'delete' && flags.json === true) throw new UsageError(`${command}: --json is for list, describe and reset-offsets`);
  if (action !== 'reset-offsets') {
    const misplaced = [...(flags.topic !== undefined ? ['topic'] : []), ...(flags['all-topics'] === true ? ['all-topics'] : []), ...scenarios, ...(flags['dry-run'] === true ? ['dry-run'] : []), ...(flags.execute === true ? ['execute'] : [])];
    if (misplaced.length > 0) throw new UsageError(`${command}: --${misplaced[0]} is for reset-offsets`);
    return;
  }
  if (scenarios.length !== 1) {
    throw new UsageError(`${command}: ${scenarios.length === 0 ? 'say where to' : 'give only one of'} --to-earliest, --to-latest, --to-offset, --to-datetime or --shift-by`);
  }
  if (flags.topic === undefined && flags['all-topics'] !== true) throw new UsageError(`${command}: --topic or --all-topics is needed`);
  if (flags.topic !== undefined && flags['all-topics'] === true) throw new UsageError(`${command}: --topic and --all-topics cannot be used together`);
  if (flags['dry-run'] === true && flags.execute === true) throw new UsageError(`${command}: --dry-run and --execute cannot be used together`);
  for (const text of flags.topic ?? []) parseTopicSelection(command, text);
  if (flags['to-datetime'] !== undefined) parseDateTime(command, flags['to-datetime']);
}

/** `inkwell groups ...`; returns the exit code. */
export async function runGroups(args: readonly string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(groupsUsage);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) {
    const flags = parseGroupsFlags('groups', args);
    if (flags.help === true) {
      process.stdout.write(groupsUsage);
      return 0;
    }
    throw new UsageError('groups: missing action: list, describe, delete or reset-offsets (see inkwell groups --help)');
  }
  if (!(actions as readonly string[]).includes(first)) throw new UsageError(`groups: unknown action ${JSON.stringify(first)}: list, describe, delete or reset-offsets`);
  const action = first as Action;
  const command = `groups ${action}`;
  const flags = parseGroupsFlags(command, rest);
  if (flags.help === true) {
    process.stdout.write(groupsUsage);
    return 0;
  }
  checkFlags(action, command, flags);
  const groups = [...new Set(flags.group ?? [])];
  const options = clientOptionsFromFlags('groups', flags);
  checkBootstrap(command, options);
  const admin = new Admin(options);
  const timeoutMs = timeoutOf(flags);
  const json = flags.json === true;
  try {
    await withDeadline(command, timeoutMs, `connecting to ${String(options.bootstrap)}`, () => admin.connect());
    switch (action) {
      case 'list': {
        const listed = await admin.listGroups();
        process.stdout.write(listed.map((g) => (json ? JSON.stringify({ group: g.groupId, state: g.state, protocolType: g.protocolType }) : g.groupId) + '\n').join(''));
        return 0;
      }
      case 'describe': {
        const out: string[] = [];
        for (const groupId of groups) {
          const group = await describeExisting(admin, command, groupId);
          const lag = await lagOf(admin, group);
          out.push(json ? describeJson(group, lag) : describeText(group, lag));
        }
        process.stdout.write(out.join(json ? '' : '\n'));
        return 0;
      }
      case 'delete': {
        // Like Kafka's DeleteGroups, each group succeeds or fails on its own; failures are reported together.
        const failures: string[] = [];
        for (const groupId of groups) {
          try {
            await admin.deleteGroups([groupId]);
            process.stdout.write(`deleted ${groupId}\n`);
          } catch (error) {
            if (!(error instanceof KafkaError) || error.code < 0) throw error;
            failures.push(error.message.split('\n')[0]!);
          }
        }
        if (failures.length > 0) throw new CliError(`${command}: ${failures.join('; ')}`);
        return 0;
      }
      case 'reset-offsets': {
        const scenario = resetScenarios.find((name) => flags[name] !== undefined && flags[name] !== false)!;
        const plans: PlannedOffset[] = [];
        for (const groupId of groups) {
          const [group] = await admin.describeGroups([groupId]);
          if (group !== undefined && group.state !== 'Empty' && group.state !== 'Dead') {
            throw new CliError(
              `${command}: assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${group.state} (${group.members.length} member${group.members.length === 1 ? '' : 's'})`,
            );
          }
          let selections = (flags.topic ?? []).map((text) => parseTopicSelection(command, text));
          if (flags['all-topics'] === true) selections = [...new Set((await admin.fetchOffsets(groupId)).filter((o) => o.offset >= 0).map((o) => o.topic))].map((topic) => ({ topic, partitions: undefined }));
          plans.push(...(await planReset(admin, command, groupId, selections, scenario, flags)));
        }
        if (flags.execute === true) {
          for (const groupId of groups) await admin.alterOffsets(
            groupId,
            plans.filter((p) => p.group === groupId).map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })),
          );
        }
        if (json) process.stdout.write(plans.map((p) => JSON.stringify({ ...p, executed: flags.execute === true }) + '\n').join(''));
        else process.stdout.write(table(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], plans.map((p) => [p.group, p.topic, String(p.partition), String(p.newOffset)])));
        if (flags.execute !== true && flags['dry-run'] !== true) process.stderr.write(`inkwell: ${command}: dry run, nothing changed; add --execute to commit these offsets\n`);
        return 0;
      }
    }
  } catch (error) {
    throw asCliError(command, error);
  } finally {
    await admin.close();
  }
}
