/**
 * Checking a webhook from the relay: Standard Webhooks signatures (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`),
 * verified by the `standardwebhooks` package (constant-time comparison, timestamps older or newer
 * than five minutes refused, so a captured request cannot be replayed later).
 *
 * @module
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks'

export { WebhookVerificationError }

/** An author of a change (a token's `sub` and `name`). */
export interface WebhookAuthor {
  id: string
  name?: string
}

/** A webhook's payload. */
export interface WebhookEvent {
  /** `room.changed`, `room.created` or `version.created`. */
  type: 'room.changed' | 'room.created' | 'version.created' | (string & {})
  /** When the relay enqueued it (ISO-8601). */
  timestamp: string
  data: {
    room: string
    /** The change feed's id of the change (resume a feed from it). */
    eventId?: string
    /** The room's state vector after the change (base64). */
    stateVector?: string
    authors?: WebhookAuthor[]
    /** Where to read the room. */
    url?: string
    [key: string]: unknown
  }
}

/** Request headers as Fetch's `Headers`, or as Node's `IncomingHttpHeaders` (arrays: the first). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>

/**
 * Verifies a webhook request and returns its payload; throws a {@link WebhookVerificationError}
 * when the signature, the id or the timestamp does not check out. `secret` is the relay's
 * `--webhook-secret` (`whsec_<base64>`); `body` the raw request body, exactly as received (verify
 * before parsing: re-serialised JSON does not match the signature).
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, body: string | Uint8Array): WebhookEvent {
  const flat: Record<string, string> = {}
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    ;(headers as Headers).forEach((value, key) => (flat[key.toLowerCase()] = value))
  } else {
    for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
      const first = Array.isArray(value) ? value[0] : value
      if (first !== undefined) flat[key.toLowerCase()] = first
    }
  }
  const payload = typeof body === 'string' ? body : new TextDecoder().decode(body)
  return new Webhook(secret).verify(payload, flat) as WebhookEvent
}
