export { FencedError, LeaseOptionError } from './errors.js';
export {
  createPostgresLease,
  type Lease,
  type MonotonicClock,
  type PostgresLeaseOptions,
} from './postgres-lease.js';
