export { CLOSES, type CloseKind } from './close-codes.js';
export { createGateway, type Gateway, type GatewayDeps, OPAMP_PATH } from './gateway.js';
export { UwsFallbackError, uwsIsNative } from './uws-server.js';
