/**
 * Compile-time contracts. `npm run typecheck` checks this file: each `@ts-expect-error` must
 * meet an error, so a loosened type fails CI. The runtime part keeps vitest honest.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createJobs, defineJob, type JobRequest, type Jobs } from '../../lib/index.ts';
import { memoryAdapter, type MemoryTransaction } from '../../adapters/memory/memory-adapter.ts';
import { knexAdapter } from '../../adapters/knex/knex-adapter.ts';
import type { Knex } from 'knex';

interface EmailArgs {
  orderId: string;
  cc?: string[];
}

const sendEmail = defineJob('types_send_email', { handler: async (args: EmailArgs) => void args.orderId });

describe('typed definitions', () => {
  it('carry the args type from handler to request', () => {
    expectTypeOf(sendEmail({ orderId: '1' })).toEqualTypeOf<JobRequest<EmailArgs>>();
    // @ts-expect-error a missing required key
    sendEmail({});
    // @ts-expect-error a wrong type
    sendEmail({ orderId: 1 });
    // @ts-expect-error an unknown key
    sendEmail({ orderId: '1', extra: true });
    expect(sendEmail.kind).toBe('types_send_email');
  });

  it('refuse args that are not JSON', () => {
    // @ts-expect-error Date does not survive JSON
    defineJob('types_date', { handler: async (_args: { at: Date }) => {} });
    // @ts-expect-error bigint is not JSON
    defineJob('types_bigint', { handler: async (_args: { n: bigint }) => {} });
    // @ts-expect-error functions are not JSON
    defineJob('types_fn', { handler: async (_args: { f: () => void }) => {} });
    defineJob('types_nested_ok', { handler: async (_args: { a: { b: (string | null)[] }; c?: number }) => {} });
  });

  it('bind enqueue to the adapter transaction type', () => {
    const memory = memoryAdapter();
    const jobs = createJobs({ adapter: memory, jobs: [sendEmail] });
    expectTypeOf(jobs).toEqualTypeOf<Jobs<MemoryTransaction>>();
    expectTypeOf(jobs.enqueue).parameter(0).toEqualTypeOf<MemoryTransaction>();
    const knexJobs = createJobs({ adapter: knexAdapter({ client: { dialect: 'postgresql' } } as unknown as Knex) });
    expectTypeOf(knexJobs.enqueue).parameter(0).toEqualTypeOf<Knex.Transaction>();
    // Checked on the signature: calling enqueue with a fake handle would reject at run time, unhandled.
    expectTypeOf(jobs.enqueue).returns.resolves.toEqualTypeOf<string>();
  });
});
