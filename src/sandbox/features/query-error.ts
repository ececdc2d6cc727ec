/** A query parameter the layer cannot honour: answered with the §2 "bad where / field" envelope. */
export class QueryError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'QueryError';
  }
}

/** §2 [O]: `'Invalid field: x' parameter is invalid`. */
export function invalidField(name: string): QueryError {
  return new QueryError(`'Invalid field: ${name}' parameter is invalid`);
}

export function invalidParameter(name: string): QueryError {
  return new QueryError(`'${name}' parameter is invalid`);
}
