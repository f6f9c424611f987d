/**
 * InitProducerId (key 22), versions 0-4 (2+ flexible).
 * v3 adds the producer's current id and epoch (KIP-360), v4 only allows PRODUCER_FENCED in
 * answers, which a broker without transactions never gives.
 *
 * Idempotent producers (null transactional id) get a fresh id with epoch 0, or an epoch bump of
 * an id this broker issued (see producers/producers.ts). Transactional ids are refused:
 *   - "" is INVALID_REQUEST, as Kafka's TransactionCoordinator answers;
 *   - any other is TRANSACTIONAL_ID_AUTHORIZATION_FAILED. Kafka has no "transactions disabled"
 *     answer; this is the one it gives a client that may not use a transactional id, it is
 *     fatal rather than retriable (COORDINATOR_NOT_AVAILABLE would have the client retry until
 *     its timeout for a coordinator that will never come), and it is what Produce answers for
 *     transactional batches here too.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';

function failure(error: string): Record<string, unknown> {
  return { throttleTimeMs: 0, errorCode: errorCode(error), producerId: -1n, producerEpoch: -1 };
}

export const initProducerIdHandler: Handler = {
  apiKey: 22,
  async handle(context, request) {
    const transactionalId = request.transactionalId as string | null;
    if (transactionalId === '') return failure('INVALID_REQUEST');
    if (transactionalId !== null) {
      context.broker.log(`InitProducerId for transactional id ${JSON.stringify(transactionalId)} refused: Inkwell has no transactions`);
      return failure('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    }
    const result = await context.broker.producers.initProducerId(request.producerId as bigint, request.producerEpoch as number);
    if ('error' in result) {
      context.broker.log(`InitProducerId refused: ${result.reason}`);
      return failure(result.error);
    }
    return { throttleTimeMs: 0, errorCode: 0, producerId: result.producerId, producerEpoch: result.producerEpoch };
  },
};
