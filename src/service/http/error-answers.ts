import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
    // JSON whatever the route had set: a download that fails after its type was chosen must not answer 500 instead.
    reply.type('application/json; charset=utf-8');
    if (known) {
      const { status, body } = errorAnswer(known);
      if (status >= 500) request.log.error(error);
      return reply.status(status).send({ ...body, message: oneLine(body.message) });
    }
    if (error.statusCode && error.statusCode < 500) return reply.status(error.statusCode).send({ error: 'BAD_REQUEST', message: oneLine(error.message) });
    request.log.error(error);
    return reply.status(500).send({ error: 'INTERNAL', message: 'internal error; see the service log' });
  });
}

/**
 * Fastify's refusals before any route runs (a %-escape that does not decode, a path parameter
 * past its length): in the API's error shape, and without the path, which fastify echoes
 * decoded (newlines and all) into its own answer.
 */
export function answerFrameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a part of the path is longer than the service takes' : 'the path has a %-escape that does not decode';
  const { status, body } = errorAnswer(new DriveseedError('USAGE', message, { field: 'path' }));
  void reply.status(status).type('application/json; charset=utf-8').send(body);
}

/**
 * A message often names what the client sent (a server name, a blob name from the path),
 * which may hold a newline or other control characters: escaped, so an answer is always one
 * line and a client that prints it prints no line the service did not write.
 */
function oneLine(message: string): string {
  let out = '';
  for (const c of message) out += c < ' ' || c === '\u007f' ? JSON.stringify(c).slice(1, -1) : c;
  return out;
}

function schemaRefusal(error: FastifyError): DriveseedError | undefined {
  if (!error.validation) return undefined;
  const first = error.validation[0] as { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } } | undefined;
  const field =
    (first?.params?.missingProperty ?? first?.params?.additionalProperty ?? first?.instancePath?.replace(/^\//, '').replaceAll('/', '.')) || undefined;
  return new DriveseedError('USAGE', `${error.validationContext ?? 'request'}: ${error.message}`, { field });
}
