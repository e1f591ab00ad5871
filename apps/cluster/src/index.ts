export { type ClusterRedis, clusterRedis } from './redis.js';
