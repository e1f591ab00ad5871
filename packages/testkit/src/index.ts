export * from './agent/index.js';
export * from './fixtures/index.js';
