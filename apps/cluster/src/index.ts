export { type ClusterService, clusterPostgres, clusterRedis } from './infra.js';
