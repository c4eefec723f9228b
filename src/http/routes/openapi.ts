/** GET /openapi.json: the OpenAPI 3.1 document of every operation the route plugins described (api-catalog.ts). */
import type { RoutePlugin } from '../context.js';

export const openapiRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/openapi.json', async () => ctx.api.document());
};
