/**
 * The whole conformance suite on a schema-qualified jobs table (`schema.table`) in a schema of
 * its own, with a name longer than PostgreSQL's 63-byte identifier limit once joined (each part
 * within it): the NOTIFY channel derived from it must still be one PostgreSQL accepts.
 */
import { qualifiedTable } from '../support/databases.ts';
import { pgHarness } from '../support/harnesses.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('pg × postgres, schema-qualified table', 'postgres', () => pgHarness(qualifiedTable(true)));
