export * from './agent/index.js';
export * from './eventually.js';
export * from './fixtures/index.js';
export * from './process.js';
