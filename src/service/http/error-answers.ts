import type { FastifyError, FastifyInstance } from 'fastify';
import { DriveseedError } from '../../core/errors.js';
import { errorAnswer } from '../../api/wire-errors.js';

/**
 * The one place errors become answers. Domain code throws DriveseedErrors and never picks a
 * status: each code's status and body come from the API's table. A request the schemas refuse
 * is a USAGE error naming its field; the framework's own refusals (415, 413) keep their
 * status; anything else is a bug, logged, and answered 500 without its details.
 */
export function answerErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof DriveseedError ? error : schemaRefusal(error);
    if (known) {
      const { status, body } = errorAnswer(known);
      if (status >= 500) request.log.error(error);
      return reply.status(status).send(body);
    }
    if (error.statusCode && error.statusCode < 500) return reply.status(error.statusCode).send({ error: 'BAD_REQUEST', message: error.message });
    request.log.error(error);
    return reply.status(500).send({ error: 'INTERNAL', message: 'internal error; see the service log' });
  });
}

function schemaRefusal(error: FastifyError): DriveseedError | undefined {
  if (!error.validation) return undefined;
  const first = error.validation[0] as { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } } | undefined;
  const field =
    (first?.params?.missingProperty ?? first?.params?.additionalProperty ?? first?.instancePath?.replace(/^\//, '').replaceAll('/', '.')) || undefined;
  return new DriveseedError('USAGE', `${error.validationContext ?? 'request'}: ${error.message}`, { field });
}
