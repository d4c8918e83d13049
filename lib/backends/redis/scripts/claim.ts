/**
 * Claims up to `limit` due jobs of the given queues for one worker in one call: promotes
 * scheduled jobs that came due, skips paused queues (read here, so a pause committed before the
 * claim is never violated), takes the best `limit` by (priority, run_at, id) across the queues,
 * and gives each a lease. ARGV = now or '', limit, worker id, lease ms, queue count, the queues,
 * then one lease token per job that may be claimed (made by the client: scripts must not draw
 * random numbers). Returns one array per job: id, queue, kind, args, metadata, attempt,
 * max_attempts, priority, run_at, created_at, lease token.
 *
 * @internal
 */
import { defineScript } from '../redis-port.ts';
import { PRELUDE } from './prelude.ts';

export const claimScript = defineScript(
  'claim',
  `${PRELUDE}
local now = clock(ARGV[1])
local limit, worker, lease, nq = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
-- Bounded, so one claim never stalls the server behind a backlog of timers coming due at once.
local due = redis.call('ZRANGEBYSCORE', P .. ':scheduled', '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  local f = redis.call('HMGET', jkey(id), 'queue', 'priority', 'run_at')
  redis.call('ZREM', P .. ':scheduled', id)
  if f[1] then redis.call('ZADD', P .. ':ready:' .. f[1], ready_score(f[2], f[3]), id) end
end
local picks = {}
for i = 1, nq do
  local q = ARGV[5 + i]
  if redis.call('SISMEMBER', P .. ':paused', q) == 0 then
    local got = redis.call('ZRANGE', P .. ':ready:' .. q, 0, limit - 1, 'WITHSCORES')
    for j = 1, #got, 2 do picks[#picks + 1] = { got[j], tonumber(got[j + 1]), q } end
  end
end
table.sort(picks, function(a, b) if a[2] ~= b[2] then return a[2] < b[2] end return a[1] < b[1] end)
local out = {}
for i = 1, math.min(limit, #picks) do
  local id, q = picks[i][1], picks[i][3]
  local jk = jkey(id)
  local token = ARGV[5 + nq + i]
  redis.call('ZREM', P .. ':ready:' .. q, id)
  local attempt = redis.call('HINCRBY', jk, 'attempt', 1)
  redis.call('HSET', jk, 'attempted_at', now, 'lease_token', token, 'locked_by', worker, 'lease_expires_at', now + lease)
  move(id, q, 'available', 'running')
  redis.call('ZADD', P .. ':running', now + lease, id)
  local f = redis.call('HMGET', jk, 'kind', 'args', 'metadata', 'max_attempts', 'priority', 'run_at', 'created_at')
  out[#out + 1] = { id, q, f[1], f[2], f[3] or '', attempt, f[4], f[5], f[6], f[7], token }
end
return out
`,
);
