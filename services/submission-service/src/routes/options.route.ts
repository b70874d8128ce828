import type { FastifyInstance } from "fastify";

/**
 * OPTIONS on a known path: 204 with Allow (its methods and OPTIONS), as HTTP says; without it
 * Fastify answered 404 ROUTE_NOT_FOUND, as if the path did not exist, while every other wrong
 * method gets a 405 with Allow. No CORS headers: browsers reach this API through the web
 * server's one origin, so a cross-origin preflight is refused by the browser, as intended.
 */
export function optionsRoute(app: FastifyInstance, url: string, allow: readonly string[]): void {
  const header = [...allow, "OPTIONS"].join(", ");
  app.route({
    method: "OPTIONS",
    url,
    schema: { hide: true },
    handler: async (_request, reply) => reply.header("allow", header).code(204).send(),
  });
}
