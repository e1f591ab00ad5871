/**
 * JSON schemas of every request and response of the API. They validate requests, serialize
 * responses (fast-json-stringify drops undeclared fields) and become the OpenAPI 3.1 document, so
 * documentation and behaviour come from one source. Shared schemas are registered once by `$id` and
 * appear under `components.schemas`.
 */

/** Canonical instance uid (`8-4-4-4-12` hex); upper case is accepted and lower-cased. */
export const AGENT_ID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Most `attr.<key>=<value>` filters in one request. */
export const MAX_ATTRIBUTE_FILTERS = 10;

const STATUS = { type: 'string', enum: ['online', 'offline', 'error'] } as const;
const time = (description: string) =>
  ({ type: ['string', 'null'], format: 'date-time', description }) as const;
const nullableText = (description: string) => ({ type: ['string', 'null'], description }) as const;

/** Fields every agent view starts with: the read-time status and the connection timeline. */
const STATUS_FIELDS = {
  id: { type: 'string', description: 'Canonical instance uid of the agent.' },
  status: {
    ...STATUS,
    description:
      'Read-time status: the stored status, except that a stored `online` agent not seen within OFFLINE_TIMEOUT_SECONDS reads `offline` (see `stale`).',
  },
  stored_status: { ...STATUS, description: 'The status recorded in Postgres.' },
  stale: {
    type: 'boolean',
    description:
      'True when the agent is stored online but its freshest last-seen (Redis or Postgres) is older than OFFLINE_TIMEOUT_SECONDS: it reads offline before the sweeper records it.',
  },
  status_reason: nullableText('Why the agent has its status (`heartbeat_timeout` when stale).'),
  status_changed_at: time('When the stored status last changed.'),
  last_seen_at: time('Freshest last-seen time: the Redis last-seen set or Postgres, whichever is later.'),
  last_seen_source: {
    type: ['string', 'null'],
    enum: ['redis', 'postgres', null],
    description: 'Where `last_seen_at` comes from.',
  },
  last_connected_at: time('When the agent last connected.'),
  last_disconnected_at: time('When the agent last disconnected.'),
  disconnect_reason: nullableText('Reason of the last disconnect.'),
  transport: {
    type: ['string', 'null'],
    enum: ['ws', 'http', null],
    description: 'Transport of the last connection.',
  },
} as const;

const CONNECTION_FIELDS = {
  connected: {
    type: ['boolean', 'null'],
    description:
      'Whether a gateway holds a connection of the agent (connection registry); null when Redis is unavailable.',
  },
  gateway_id: nullableText('Gateway holding the connection, when connected.'),
  connection_id: nullableText('The connection it holds, when connected.'),
} as const;

const DESCRIPTION = {
  type: ['object', 'null'],
  description: 'The agent description (OpAMP AgentDescription) with attribute values as JSON.',
  properties: {
    identifying: { type: 'object', additionalProperties: {} },
    non_identifying: { type: 'object', additionalProperties: {} },
  },
  required: ['identifying', 'non_identifying'],
  additionalProperties: false,
} as const;

const PRESENCE_AVAILABLE = {
  type: 'boolean',
  description: 'False when Redis could not be read: statuses then rest on Postgres alone.',
} as const;

const object = (properties: Record<string, unknown>, description?: string) => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

const page = (items: string, extra: Record<string, unknown> = {}) =>
  object({
    items: { type: 'array', items: { $ref: `${items}#` } },
    next_cursor: {
      type: ['string', 'null'],
      description: 'Pass as `cursor` for the next page; null on the last page.',
    },
    ...extra,
  });

/** Shared schemas, registered with `addSchema`, referenced as `{ $ref: '<Name>#' }`. */
export const SHARED_SCHEMAS = [
  {
    $id: 'Error',
    ...object({
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', description: 'Stable machine-readable code, e.g. `bad_request`.' },
          message: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                location: { type: 'string', description: 'params, querystring, headers or body.' },
                path: { type: 'string', description: 'JSON pointer of the offending value.' },
                message: { type: 'string' },
              },
              required: ['message'],
              additionalProperties: false,
            },
          },
        },
        required: ['code', 'message'],
        additionalProperties: false,
      },
    }),
  },
  {
    $id: 'AgentStatus',
    ...object({ ...STATUS_FIELDS, ...CONNECTION_FIELDS, presence_available: PRESENCE_AVAILABLE }),
  },
  { $id: 'AgentSummary', ...object({ ...STATUS_FIELDS, description: DESCRIPTION }) },
  {
    $id: 'OfflineAgent',
    ...object({
      ...STATUS_FIELDS,
      description: DESCRIPTION,
      offline_since: time(
        'When the agent went offline: status_changed_at, or for a stale agent its last-seen plus OFFLINE_TIMEOUT_SECONDS; null when unknown.',
      ),
    }),
  },
  {
    $id: 'Agent',
    ...object({
      ...STATUS_FIELDS,
      ...CONNECTION_FIELDS,
      description: DESCRIPTION,
      capabilities: {
        type: ['integer', 'null'],
        description: 'AgentCapabilities bit mask the agent reported.',
      },
      health: { description: 'ComponentHealth the agent reported, as JSON (null when none).' },
      effective_config_hash: nullableText('SHA-256 (hex) of the effective configuration the agent reported.'),
      current_connection_id: nullableText('Connection recorded in Postgres as current.'),
      connection_epoch: { type: 'integer', description: 'Highest connection epoch recorded.' },
      last_sequence_num: { type: ['integer', 'null'] },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
      presence_available: PRESENCE_AVAILABLE,
    }),
  },
  {
    $id: 'Connection',
    ...object({
      connection_id: { type: 'string' },
      connection_epoch: { type: 'integer' },
      gateway_id: { type: 'string' },
      transport: { type: ['string', 'null'], enum: ['ws', 'http', null] },
      remote_address: nullableText('Peer address seen by the gateway.'),
      connected_at: time('Null while the open event has not been recorded.'),
      disconnected_at: time('Null while the connection is open.'),
      duration_seconds: { type: ['number', 'null'] },
      disconnect_reason: nullableText('Why the connection ended.'),
    }),
  },
  {
    $id: 'Transition',
    ...object({
      id: { type: 'integer' },
      from_status: { type: ['string', 'null'], enum: ['online', 'offline', 'error', null] },
      to_status: STATUS,
      reason: nullableText('Why the status changed.'),
      at: { type: 'string', format: 'date-time' },
      decided_by: { type: 'string', enum: ['gateway', 'sweeper', 'api', 'worker'] },
      connection_id: nullableText('The connection the decision concerned.'),
    }),
  },
  { $id: 'AgentPage', ...page('AgentSummary', { presence_available: PRESENCE_AVAILABLE }) },
  { $id: 'OfflineAgentPage', ...page('OfflineAgent', { presence_available: PRESENCE_AVAILABLE }) },
  { $id: 'ConnectionPage', ...page('Connection') },
  { $id: 'TransitionPage', ...page('Transition') },
  {
    $id: 'StatusCounts',
    ...object({ online: { type: 'integer' }, offline: { type: 'integer' }, error: { type: 'integer' } }),
  },
  {
    $id: 'FleetSummary',
    ...object({
      total: { type: 'integer', description: 'Agents in Postgres.' },
      counts: { $ref: 'StatusCounts#' },
      stored_counts: { $ref: 'StatusCounts#' },
      stale_online: {
        type: 'integer',
        description: 'Agents stored online that read offline (moved from online to offline in `counts`).',
      },
      approximate: {
        type: 'boolean',
        description: 'True when more stale candidates existed than were checked against Redis (see README).',
      },
      offline_timeout_seconds: { type: 'integer' },
      as_of: { type: 'string', format: 'date-time', description: 'The clock the read-time status used.' },
      presence_available: PRESENCE_AVAILABLE,
    }),
  },
  {
    $id: 'ReconnectAccepted',
    ...object({
      id: { type: 'string' },
      gateway_id: { type: 'string' },
      connection_id: { type: 'string' },
      receivers: { type: 'integer', description: 'Gateway subscribers that received the command.' },
    }),
  },
] as const;

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request (bad parameter, cursor or filter).',
  401: 'Missing or invalid bearer token.',
  404: 'Unknown agent.',
  409: 'The agent is not connected, or its gateway does not listen.',
  500: 'Internal error.',
  503: 'A dependency (Redis) is unavailable.',
};

/** Response schemas of the given error statuses. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: ERROR_TEXT[s] ?? 'Error.',
        ...(s === 401
          ? {
              headers: {
                'www-authenticate': { type: 'string', description: 'Bearer challenge (RFC 6750).' },
              },
            }
          : {}),
        $ref: 'Error#',
      },
    ]),
  );
}

export const AGENT_ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', pattern: AGENT_ID_PATTERN, description: 'Agent instance uid.' } },
  required: ['id'],
  additionalProperties: false,
} as const;

/** `limit` and `cursor` of a paginated endpoint, with the configured page sizes. */
export function pageQuery(maxPageSize: number, defaultPageSize: number) {
  return {
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: maxPageSize,
      default: defaultPageSize,
      description: `Page size, 1..${maxPageSize} (larger is refused with 400).`,
    },
    cursor: {
      type: 'string',
      minLength: 1,
      maxLength: 512,
      pattern: '^[A-Za-z0-9_-]+$',
      description: '`next_cursor` of the previous page (opaque).',
    },
  } as const;
}
