/**
 * Extra Node.js options for every server process a scenario starts (gateways, workers, sweepers,
 * the API), from `BENCH_SERVER_NODE_ARGS`, split on whitespace: e.g.
 * `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles each of them under the
 * scenario's load (Node refuses `--cpu-prof` in NODE_OPTIONS).
 */
export function serverNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter((a) => a.length > 0);
}
