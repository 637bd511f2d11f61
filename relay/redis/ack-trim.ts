/**
 * The ack-and-trim step as one Lua script (atomic, single-slot under Redis Cluster):
 * record that relay `id`'s stored state covers the room's stream up to `pos`, forget
 * relays silent for longer than `forgetMs`, and trim the stream below the lowest position
 * every remembered relay has stored.
 *
 * @module
 */

/**
 * KEYS[1] acks hash, KEYS[2] stream. ARGV: id, pos, now (ms), forgetMs, ttlMs.
 * Returns the number of entries trimmed.
 */
export const ACK_AND_TRIM_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local minPos, minMs, minSeq = nil, nil, nil
for i = 1, #all, 2 do
  local v = all[i + 1]
  local bar = string.find(v, '|', 1, true)
  local pos = bar and string.sub(v, 1, bar - 1) or '0-0'
  local t = bar and tonumber(string.sub(v, bar + 1)) or 0
  if now - t > forget then
    redis.call('HDEL', KEYS[1], all[i])
  else
    local dash = string.find(pos, '-', 1, true)
    local ms = tonumber(string.sub(pos, 1, dash - 1))
    local seq = tonumber(string.sub(pos, dash + 1))
    if minPos == nil or ms < minMs or (ms == minMs and seq < minSeq) then
      minPos, minMs, minSeq = pos, ms, seq
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
if minPos == nil then return 0 end
return redis.call('XTRIM', KEYS[2], 'MINID', minPos)
`
