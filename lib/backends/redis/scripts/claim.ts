/**
 * Claims up to `limit` due jobs of the given queues for one worker in one call: promotes
 * scheduled jobs that came due, skips paused queues (read here, so a pause committed before the
 * claim is never violated), takes the best `limit` by (priority, run_at, id) across the queues,
 * and gives each a lease. ARGV = now or '', limit, worker id, lease ms, queue count, the queues,
 * then a random token base made by the client (scripts must not draw random numbers): job n of
 * the claim gets the lease token `<base>.<n>`. Returns one array per job: id, queue, kind, args, metadata, attempt,
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
-- One queue's range is already in (score, id) order.
if nq > 1 then
  table.sort(picks, function(a, b) if a[2] ~= b[2] then return a[2] < b[2] end return a[1] < b[1] end)
end
-- Per job: one read and one write of its hash; the indexes and counts once per batch.
local b = batch()
local until_ms = now + lease
local out = {}
for i = 1, math.min(limit, #picks) do
  local id, q = picks[i][1], picks[i][3]
  local jk = jkey(id)
  local token = ARGV[6 + nq] .. '.' .. i
  local f = redis.call('HMGET', jk, 'kind', 'args', 'metadata', 'max_attempts', 'priority', 'run_at', 'created_at', 'attempt', 'unique_key', 'unique_states')
  local attempt = (tonumber(f[8]) or 0) + 1
  redis.call('HSET', jk, 'state', 'running', 'attempt', attempt, 'attempted_at', now, 'lease_token', token, 'locked_by', worker, 'lease_expires_at', until_ms)
  keep_unique(id, jk, f[9], f[10], 'running')
  batch_zrem(b, P .. ':ready:' .. q, id)
  batch_zrem(b, P .. ':state:available', id)
  batch_zadd(b, P .. ':state:running', 0, id)
  batch_zadd(b, P .. ':running', until_ms, id)
  batch_count(b, 'available', q, -1)
  batch_count(b, 'running', q, 1)
  out[#out + 1] = { id, q, f[1], f[2], f[3] or '', attempt, f[4], f[5], f[6], f[7], token }
end
flush(b)
return out
`,
);
