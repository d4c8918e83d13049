/**
 * The error of a dashboard read or action whose storage method this database's backend does not
 * have (yet).
 *
 * @module
 */
import { ConcordiaError } from '../errors.ts';

/**
 * The backend of the client given to the dashboard lacks a storage method the request needs.
 * The handler answers 501 with code `NOT_AVAILABLE`. `code` is `NOT_AVAILABLE`.
 */
export class NotAvailableError extends ConcordiaError {
  /** The backend method that is missing, e.g. `searchJobs`. */
  readonly method: string;
  constructor(method: string, backend: string) {
    super('NOT_AVAILABLE', `The dashboard needs the ${backend} backend's ${method}(), which is not available yet in this version of Concordia.`);
    this.method = method;
  }
}
