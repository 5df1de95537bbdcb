/** The one error the service's handlers throw for the client: a status, a stable code, a message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const unauthorized = (message: string) => new HttpError(401, 'UNAUTHORIZED', message);
export const forbidden = (message: string) => new HttpError(403, 'FORBIDDEN', message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const conflict = (message: string, field?: string) => new HttpError(409, 'CONFLICT', message, field);
export const badRequest = (message: string, field?: string) => new HttpError(400, 'BAD_REQUEST', message, field);
