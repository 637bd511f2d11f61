/**
 * Prometheus metrics of the Redis edge (registered on the relay's registry).
 *
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client'

export interface RedisMetrics {
  /** 1 while both connections are ready and caught up, else 0. */
  up: Gauge
  /** Updates and catch-up answers published (`kind`: `update`, `catch-up`, `republish`) and asks. */
  entriesSent: Counter<'kind'>
  entriesReceived: Counter<'kind'>
  /** Bytes of Yjs updates and state vectors written to / read from Redis. */
  bytesSent: Counter
  bytesReceived: Counter
  /** Rooms whose updates could not be published yet (Redis away); republished on reconnect. */
  unpublishedRooms: Gauge
  reconnects: Counter
  /** Catch-ups: `asked` by this relay (`forced` when the stream cannot be trusted), `answered` for others. */
  catchUps: Counter<'kind'>
  /** Stream entries removed by trimming (ack-and-trim script). */
  trimmed: Counter
  /** Times Redis was found restarted empty (epoch changed). */
  resets: Counter
  /** 1 when another live relay on this Redis uses this relay's `--id` (read positions then kept per process). */
  idConflict: Gauge
}

export function createRedisMetrics(registry: Registry): RedisMetrics {
  const registers = [registry]
  return {
    up: new Gauge({ name: 'tandem_redis_up', help: 'Redis edge: 1 when connected and caught up, 0 when Redis is unreachable', registers }),
    entriesSent: new Counter({ name: 'tandem_redis_entries_sent_total', help: 'Stream entries written to Redis by kind', labelNames: ['kind'] as const, registers }),
    entriesReceived: new Counter({ name: 'tandem_redis_entries_received_total', help: 'Stream entries read from Redis by kind', labelNames: ['kind'] as const, registers }),
    bytesSent: new Counter({ name: 'tandem_redis_bytes_sent_total', help: 'Payload bytes written to Redis streams', registers }),
    bytesReceived: new Counter({ name: 'tandem_redis_bytes_received_total', help: 'Payload bytes read from Redis streams', registers }),
    unpublishedRooms: new Gauge({ name: 'tandem_redis_unpublished_rooms', help: 'Rooms with updates not yet in Redis (republished on reconnect)', registers }),
    reconnects: new Counter({ name: 'tandem_redis_reconnects_total', help: 'Redis connections lost and re-established', registers }),
    catchUps: new Counter({ name: 'tandem_redis_catch_ups_total', help: 'State-vector catch-ups through Redis by kind', labelNames: ['kind'] as const, registers }),
    trimmed: new Counter({ name: 'tandem_redis_trimmed_entries_total', help: 'Stream entries trimmed once every relay stored them', registers }),
    resets: new Counter({ name: 'tandem_redis_resets_total', help: 'Times Redis was found restarted empty', registers }),
    idConflict: new Gauge({ name: 'tandem_redis_id_conflict', help: '1 when another relay on this Redis uses the same --id', registers }),
  }
}
