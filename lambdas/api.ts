/** Lambda entry of the HTTP API (API Gateway REST proxy integration). */
import { createApiHandler } from '../src/api/app';
import { wireApi } from '../src/api/wiring';

export const handler = createApiHandler(wireApi());
