import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { ErrorBody } from '../../api/schemas.js';
import type { AnswerOf, BodyOf, ParamsOf, QueryOf, Route } from '../../api/routes.js';

/** The error answers a JSON route may give (src/api/wire-errors.ts), published with each. */
const ERROR_ANSWERS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const NO_CONTENT = { type: 'null' };

export type RouteRequest<R extends Route> = FastifyRequest<{ Params: ParamsOf<R>; Querystring: QueryOf<R>; Body: BodyOf<R> }>;

/**
 * What the service does for a route: return its answer, which goes out with the route's
 * status, or send bytes or a stream on the reply itself (and return the reply).
 */
export type RouteHandler<R extends Route> = (
  request: RouteRequest<R>,
  reply: FastifyReply,
) => Promise<R extends { response: TSchema } ? AnswerOf<R> | FastifyReply : FastifyReply | void>;

/** Registers a route of the API's table: its method, path and schemas from the table, its handler from the service. */
export function serve<R extends Route>(app: FastifyInstance, route: R, handle: RouteHandler<R>, options: Pick<RouteOptions, 'exposeHeadRoute'> = {}): void {
  app.route({
    method: route.method,
    url: route.path,
    schema: schemaOf(route),
    ...options,
    handler: (request, reply) => handle(request as RouteRequest<R>, reply.status(route.status)),
  });
}

/** What fastify validates requests and serializes answers with, and publishes at /openapi.json. */
function schemaOf(route: Route): Record<string, unknown> {
  const answers = route.raw ? undefined : { [route.status]: route.response ?? NO_CONTENT, ...(route.errors === false ? {} : ERROR_ANSWERS) };
  const schema = { params: route.params, querystring: route.querystring, body: route.body, response: answers, description: route.description };
  return Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== undefined));
}
