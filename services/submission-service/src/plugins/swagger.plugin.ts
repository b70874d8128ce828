import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { createJsonSchemaTransform } from "fastify-type-provider-zod";

export const DOCS_PREFIX = "/docs";

/**
 * OpenAPI generated from the same zod schemas that validate requests, so the
 * document cannot drift from the behaviour. Registered before the routes: the
 * swagger plugin collects them as they are added.
 */
export const swaggerPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: "SonoCode submission-service",
          description: "Submissions: create (persist + enqueue), read, list. Every response uses the { success, message, error, data } envelope.",
          version: "1.0.0",
        },
        components: {
          securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
        },
      },
      transform: createJsonSchemaTransform({ skipList: ["/openapi.json", `${DOCS_PREFIX}/*`] }),
    });
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
    app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  },
  { name: "swagger", fastify: "5.x" },
);
