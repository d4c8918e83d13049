/**
 * The whole conformance suite on a schema-qualified jobs table (`database.table`): on MariaDB a
 * schema is a database, here another one than the connection's own.
 */
import { qualifiedTable } from '../support/databases.ts';
import { mysql2Harness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('mysql2 × mariadb, schema-qualified table', 'mysql', () => mysql2Harness(qualifiedTable()));
