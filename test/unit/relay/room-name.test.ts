import { describe, expect, it } from 'vitest'
import { RelayError } from '../../../relay/wire/errors.ts'
import { roomNameFromPath, validateRoomName } from '../../../relay/room/room-name.ts'

describe('room names', () => {
  it('accepts ordinary names, nested paths, dots and 256 bytes', () => {
    for (const name of ['a', 'team/doc-1', 'ünïcødé 📝', 'a.b', '...', 'x'.repeat(256)]) expect(validateRoomName(name)).toBe(name)
    expect(roomNameFromPath('/team%2Fdoc%201')).toBe('team/doc 1')
  })
  it('refuses empty, > 256 bytes, .. segments, control characters, bad encoding', () => {
    for (const name of ['', 'x'.repeat(257), 'é'.repeat(129), '..', 'a/../b', 'a\\..', 'a\u0000b', 'tab\there', 'del\u007f', 'lone\uD800']) {
      expect(() => validateRoomName(name), JSON.stringify(name)).toThrow(RelayError)
    }
    expect(() => roomNameFromPath('/%E0%A4%A')).toThrow(/percent/)
    try {
      validateRoomName('')
    } catch (e) {
      expect((e as RelayError).httpStatus).toBe(400)
      expect((e as RelayError).code).toBe('bad-room-name')
    }
  })
})
