/**
 * @module ops/errors
 * The one error an application-layer function throws for a refused or impossible action, with a
 * kind the adapters map: the CLI prints the message and exits 1, the API answers an RFC 9457
 * problem with the status of its kind (404, 409, 422, 403, 503) and the same message.
 * Touches: nothing.
 */

export type OpsErrorKind = 'not-found' | 'conflict' | 'invalid' | 'forbidden' | 'unavailable';

export class OpsError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly kind: OpsErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}
