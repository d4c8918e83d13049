/**
 * The fenced writes of a run: each applies only while the job is `running` under the run's
 * lease token, so a worker that lost its lease (rescued, cancelled) changes nothing.
 *
 * @internal
 */
import { defineScript } from '../redis-port.ts';
import { PRELUDE } from './prelude.ts';

/** ARGV = now or '', then id, token pairs. Returns the ids completed. */
export const completeScript = defineScript(
  'complete',
  `${PRELUDE}
local now = clock(ARGV[1])
local b = batch()
local done = {}
-- Per job: the fence read and the hash writes; the indexes and counts once per batch. A job
-- listed twice finds itself completed the second time (its state is written here, not batched).
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'state', 'lease_token', 'queue', 'unique_key', 'unique_states')
  if f[1] == 'running' and f[2] == ARGV[i + 1] then
    local q = f[3]
    redis.call('HSET', jk, 'state', 'completed', 'finalized_at', now)
    redis.call('HDEL', jk, 'lease_expires_at')
    keep_unique(id, jk, f[4], f[5], 'completed')
    batch_zrem(b, P .. ':running', id)
    batch_zrem(b, P .. ':state:running', id)
    batch_zadd(b, P .. ':state:completed', 0, id)
    batch_zadd(b, P .. ':done:completed', now, id)
    batch_count(b, 'running', q, -1)
    batch_count(b, 'completed', q, 1)
    done[#done + 1] = id
  end
end
flush(b)
return done
`,
);

/**
 * ARGV = now or '', id, token, to (available | discarded | cancelled), delay ms, error entry or
 * '', refund (1 to give the attempt back), retried (1 when an earlier try may have committed).
 * Returns 1 when written.
 */
export const failScript = defineScript(
  'fail',
  `${PRELUDE}
local now = clock(ARGV[1])
local id, token, to = ARGV[2], ARGV[3], ARGV[4]
local q = fenced(id, token)
if not q then
  if ARGV[8] == '1' then
    local f = redis.call('HMGET', jkey(id), 'state', 'lease_token')
    if f[1] == to and f[2] == token then return 1 end
  end
  return 0
end
if ARGV[6] ~= '' then push_error(id, ARGV[6]) end
if to == 'available' then
  local jk = jkey(id)
  local run_at = now + tonumber(ARGV[5])
  redis.call('HSET', jk, 'run_at', run_at)
  redis.call('HDEL', jk, 'lease_expires_at')
  if ARGV[7] == '1' then redis.call('HINCRBY', jk, 'attempt', -1) end
  redis.call('ZREM', P .. ':running', id)
  move(id, q, 'running', 'available')
  place(id, q, redis.call('HGET', jk, 'priority'), run_at, now)
else
  finish(id, q, 'running', to, now)
end
return 1
`,
);

/** Gives runs back without using their attempt (graceful stop). ARGV = now or '', id, token pairs. Returns the count. */
export const releaseScript = defineScript(
  'release',
  `${PRELUDE}
local now = clock(ARGV[1])
local n = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local q = fenced(id, ARGV[i + 1])
  if q then
    local jk = jkey(id)
    redis.call('HINCRBY', jk, 'attempt', -1)
    redis.call('HDEL', jk, 'lease_expires_at')
    redis.call('ZREM', P .. ':running', id)
    move(id, q, 'running', 'available')
    local f = redis.call('HMGET', jk, 'priority', 'run_at')
    place(id, q, f[1], f[2], now)
    n = n + 1
  end
end
return n
`,
);

/** ARGV = now or '', lease ms, then id, token pairs. Returns the ids whose lease was extended. */
export const extendScript = defineScript(
  'extend-leases',
  `${PRELUDE}
local now = clock(ARGV[1])
local until_ms = now + tonumber(ARGV[2])
local held = {}
for i = 3, #ARGV, 2 do
  if fenced(ARGV[i], ARGV[i + 1]) then
    redis.call('HSET', jkey(ARGV[i]), 'lease_expires_at', until_ms)
    redis.call('ZADD', P .. ':running', until_ms, ARGV[i])
    held[#held + 1] = ARGV[i]
  end
end
return held
`,
);

/**
 * Returns jobs whose lease expired to `available` (run_at kept, so they keep their place), or
 * to `discarded` when out of attempts, each with the error entry plus its attempt. ARGV = now or
 * '', error entry (a JSON object), limit. Returns the count.
 */
export const rescueScript = defineScript(
  'rescue',
  `${PRELUDE}
local now = clock(ARGV[1])
local entry = ARGV[2]
local expired = redis.call('ZRANGEBYSCORE', P .. ':running', '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(expired) do
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'state', 'queue', 'attempt', 'max_attempts', 'priority', 'run_at')
  if f[1] ~= 'running' then
    redis.call('ZREM', P .. ':running', id)
  else
    local with_attempt = entry == '{}' and ('{"attempt":' .. f[3] .. '}') or (string.sub(entry, 1, -2) .. ',"attempt":' .. f[3] .. '}')
    push_error(id, with_attempt)
    if tonumber(f[3]) >= tonumber(f[4]) then
      finish(id, f[2], 'running', 'discarded', now)
    else
      redis.call('HDEL', jk, 'lease_expires_at')
      redis.call('ZREM', P .. ':running', id)
      move(id, f[2], 'running', 'available')
      place(id, f[2], f[5], f[6], now)
    end
  end
end
return #expired
`,
);
