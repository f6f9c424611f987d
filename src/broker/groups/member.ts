/**
 * A member of a group, as the coordinator knows it: who it is, what it offered in its last
 * JoinGroup, what the leader assigned it, and the JoinGroup or SyncGroup response it is
 * waiting for (a held request is a callback here; answering it sends the response).
 */
import type { ErrorName } from '../../protocol/errors.js';
import type { Deadline } from './scheduler.js';

export interface Protocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Buffer;
}

export interface JoinResult {
  readonly error: ErrorName;
  readonly memberId: string;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leaderId: string;
  /** Every member's metadata for the chosen protocol, for the leader; empty for the others. */
  readonly members: readonly JoinMember[];
}

export interface SyncResult {
  readonly error: ErrorName;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Buffer;
}

export const noBytes: Buffer = Buffer.alloc(0);

export function joinError(memberId: string, error: ErrorName): JoinResult {
  return { error, memberId, generationId: -1, protocolType: null, protocolName: null, leaderId: '', members: [] };
}

export function syncError(error: ErrorName): SyncResult {
  return { error, protocolType: null, protocolName: null, assignment: noBytes };
}

export class Member {
  assignment: Buffer = noBytes;
  /** Set while a JoinGroup of this member is held. */
  joinWaiter: ((result: JoinResult) => void) | null = null;
  /** Set while a SyncGroup of this member is held. */
  syncWaiter: ((result: SyncResult) => void) | null = null;
  /** Joined for the first time and not yet through a rebalance: expires after newMemberJoinTimeoutMs, not the session. */
  isNew = false;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: readonly Protocol[],
    /** Session expiry (or the new-member join timeout). */
    readonly session: Deadline,
  ) {}

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  /** Bytes of state this member holds: protocol metadata and assignment. */
  get stateBytes(): number {
    return protocolBytes(this.protocols) + this.assignment.length;
  }

  metadataFor(protocolName: string): Buffer {
    const protocol = this.protocols.find((p) => p.name === protocolName);
    if (!protocol) throw new Error(`member ${this.memberId} does not support protocol ${protocolName}`);
    return protocol.metadata;
  }

  /** The first of this member's protocols (in its order of preference) that is among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (!choice) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return choice.name;
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  answerJoin(result: JoinResult): boolean {
    const waiter = this.joinWaiter;
    if (waiter === null) return false;
    this.joinWaiter = null;
    waiter(result);
    return true;
  }

  answerSync(result: SyncResult): boolean {
    const waiter = this.syncWaiter;
    if (waiter === null) return false;
    this.syncWaiter = null;
    waiter(result);
    return true;
  }
}

export function protocolBytes(protocols: readonly Protocol[]): number {
  return protocols.reduce((sum, p) => sum + p.metadata.length, 0);
}
