/**
 * One benchmark case in a fresh process: the orchestrator passes a CaseSpec as JSON in argv[2]
 * and receives the CaseResult over IPC. Fresh process = no JIT warmth, pools or caches carried
 * over from another case.
 */
import { measureServerOf, type CaseResult, type CaseSpec } from './lib/common.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
measureServerOf(spec.db);

async function main(): Promise<CaseResult> {
  switch (spec.impl) {
    case 'concordia':
      return (await import('./cases/concordia.ts')).run(spec);
    case 'raw-pg':
      return (await import('./cases/raw-pg.ts')).run(spec);
    case 'raw-mysql':
      return (await import('./cases/raw-mysql.ts')).run(spec);
    case 'raw-sqlite':
      return (await import('./cases/raw-sqlite.ts')).run(spec);
    case 'multi-process':
      return (await import('./cases/multi-process.ts')).run(spec);
    case 'large-table':
      return (await import('./cases/large-table.ts')).run(spec);
    case 'dashboard-reads':
      return (await import('./cases/dashboard-reads.ts')).run(spec);
    case 'pg-boss':
      return (await import('./cases/pg-boss.ts')).run(spec);
    case 'graphile-worker':
      return (await import('./cases/graphile-worker.ts')).run(spec);
    case 'bullmq':
      return (await import('./cases/bullmq.ts')).run(spec);
    case 'concordia-redis':
      return (await import('./cases/concordia-redis.ts')).run(spec);
    case 'raw-redis':
      return (await import('./cases/raw-redis.ts')).run(spec);
    case 'concordia-dynamodb':
    case 'raw-dynamodb':
      return (await import('./cases/concordia-dynamodb.ts')).run(spec);
    case 'concordia-firestore':
    case 'raw-firestore':
      return (await import('./cases/concordia-firestore.ts')).run(spec);
    default:
      throw new Error(`unknown impl ${String(spec.impl)}`);
  }
}

main().then(
  (result) => {
    // Exit once the message is flushed: peers may keep timers or sockets open after stop().
    process.send?.({ ok: true, result }, () => process.exit(0));
  },
  (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.send?.({ ok: false, error: message }, () => process.exit(1));
  },
);
