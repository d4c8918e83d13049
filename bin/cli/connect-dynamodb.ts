/**
 * `dynamodb://host:port?region=…&table=…` for the CLI: a DynamoDB client on that endpoint (DynamoDB
 * Local, or any endpoint speaking DynamoDB's API), with the AWS SDK's usual credential chain.
 * `dynamodb://aws?region=eu-west-1` uses the region's public endpoint. `table` names the jobs
 * table when `--table` is not given. `tls=1` uses https for a host:port endpoint.
 *
 * @module
 */
import type { Adapter } from '../../lib/sql/executor.ts';
import { CliError, EXIT, usage } from './exit-codes.ts';
import type { Connection } from './connect.ts';

/** Whether `url` is for this connector. */
export function isDynamodbUrl(url: string): boolean {
  return /^dynamodb:\/\//i.test(url);
}

export async function connectDynamodb(url: string): Promise<Connection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`Not a valid DynamoDB URL: ${url} (expected dynamodb://host:port?region=…&table=…).`);
  }
  const region = parsed.searchParams.get('region') ?? process.env['AWS_REGION'] ?? 'us-east-1';
  const table = parsed.searchParams.get('table') ?? undefined;
  const aws = parsed.hostname === 'aws' && parsed.port === '';
  const scheme = parsed.searchParams.get('tls') === '1' ? 'https' : 'http';
  const endpoint = aws ? undefined : `${scheme}://${parsed.host}`;
  let sdk: typeof import('@aws-sdk/client-dynamodb');
  try {
    sdk = await import('@aws-sdk/client-dynamodb');
  } catch (error) {
    throw new CliError('DRIVER_MISSING', EXIT.database, 'The "@aws-sdk/client-dynamodb" driver is not installed: npm install @aws-sdk/client-dynamodb', { cause: error });
  }
  const { dynamodbAdapter } = await import('../../adapters/dynamodb/dynamodb-adapter.ts');
  // One attempt and a short timeout: an unreachable endpoint is one clear error, not a minute of retries.
  // DynamoDB Local takes any credentials: on loopback without AWS credentials set, give it some.
  const local = /^(localhost|127\.0\.0\.1|\[::1\])$/i.test(parsed.hostname) && !process.env['AWS_ACCESS_KEY_ID'] && !process.env['AWS_PROFILE'];
  const client = new sdk.DynamoDBClient({
    region,
    maxAttempts: 1,
    ...(endpoint && { endpoint }),
    ...(local && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
  });
  try {
    await client.send(new sdk.ListTablesCommand({ Limit: 1 }));
  } catch (error) {
    client.destroy();
    throw new CliError('DATABASE', EXIT.database, `DynamoDB at ${endpoint ?? `aws (${region})`} does not answer: ${String((error as Error)?.message ?? error)}`, { cause: error });
  }
  return {
    adapter: dynamodbAdapter({ client }) as unknown as Adapter<unknown>,
    display: `dynamodb://${parsed.host}`,
    ...(table !== undefined && { table }),
    close: async () => client.destroy(),
  };
}
