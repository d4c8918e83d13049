/**
 * Operator writes (CLI, dashboard, client): cancel, retry, prune, pause.
 *
 * @internal
 */
import { defineScript } from '../redis-port.ts';
import { PRELUDE } from './prelude.ts';

/** Cancels a job that has not finished. ARGV = now or '', id. Returns 1 when cancelled. */
export const cancelScript = defineScript(
  'cancel',
  `${PRELUDE}
local now = clock(ARGV[1])
local id = ARGV[2]
local f = redis.call('HMGET', jkey(id), 'state', 'queue')
if f[1] ~= 'available' and f[1] ~= 'running' then return 0 end
unplace(id, f[2])
finish(id, f[2], f[1], 'cancelled', now)
return 1
`,
);

/**
 * Puts a discarded or cancelled job back to available, due now, attempts reset (errors kept).
 * ARGV = now or '', id. Returns {1, 'available'}, or {0, its state} ({0} when no such job).
 */
export const retryScript = defineScript(
  'retry',
  `${PRELUDE}
local now = clock(ARGV[1])
local id = ARGV[2]
local jk = jkey(id)
local f = redis.call('HMGET', jk, 'state', 'queue', 'priority')
if not f[1] then return { 0 } end
if f[1] ~= 'discarded' and f[1] ~= 'cancelled' then return { 0, f[1] } end
redis.call('HSET', jk, 'attempt', 0, 'run_at', now)
redis.call('HDEL', jk, 'finalized_at', 'lease_expires_at')
redis.call('ZREM', P .. ':done:' .. f[1], id)
move(id, f[2], f[1], 'available')
place(id, f[2], f[3], now, now)
redis.call('PUBLISH', P .. ':wake', f[2])
return { 1, 'available' }
`,
);

/** Deletes up to `limit` jobs of a final state that finished before now − olderThanMs. ARGV = now or '', state, olderThanMs, limit. */
export const pruneScript = defineScript(
  'prune',
  `${PRELUDE}
local now = clock(ARGV[1])
local state = ARGV[2]
local old = redis.call('ZRANGEBYSCORE', P .. ':done:' .. state, '-inf', '(' .. (now - tonumber(ARGV[3])), 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(old) do
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'queue', 'unique_key')
  if f[2] and redis.call('HGET', P .. ':unique', f[2]) == id then redis.call('HDEL', P .. ':unique', f[2]) end
  if f[1] then count(state, f[1], -1) end
  redis.call('DEL', jk)
  redis.call('ZREM', P .. ':ids', id)
  redis.call('ZREM', P .. ':state:' .. state, id)
  redis.call('ZREM', P .. ':done:' .. state, id)
end
return #old
`,
);

/** ARGV = queue, '1' to pause or '0' to resume. Returns 1 when this call changed it. */
export const pauseScript = defineScript(
  'pause',
  `${PRELUDE}
if ARGV[2] == '1' then return redis.call('SADD', P .. ':paused', ARGV[1]) end
local changed = redis.call('SREM', P .. ':paused', ARGV[1])
if changed == 1 then redis.call('PUBLISH', P .. ':wake', ARGV[1]) end
return changed
`,
);

/** The whole hash of each id (an empty array for a missing job). ARGV = ids. */
export const readJobsScript = defineScript(
  'read-jobs',
  `${PRELUDE}
local out = {}
for i = 1, #ARGV do out[i] = redis.call('HGETALL', jkey(ARGV[i])) end
return out
`,
);

/**
 * An operator action on listed jobs (the dashboard): ARGV = now or '', action, ids. Jobs not in a
 * state the action applies to are left alone. Returns the ids changed. The states per action
 * are those of `ACTION_STATES` in lib/backend/inspection.ts.
 */
export const actScript = defineScript(
  'act',
  `${PRELUDE}
local now = clock(ARGV[1])
local action = ARGV[2]
local APPLIES = {
  retry = { completed = true, cancelled = true, discarded = true },
  cancel = { available = true, running = true },
  discard = { available = true },
  delete = { available = true, completed = true, cancelled = true, discarded = true },
  runNow = { available = true },
}
local changed = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local jk = jkey(id)
  local f = redis.call('HMGET', jk, 'state', 'queue', 'priority', 'run_at', 'unique_key')
  local state, queue = f[1], f[2]
  if state and APPLIES[action][state] and not (action == 'runNow' and tonumber(f[4]) <= now) then
    if action == 'delete' then
      unplace(id, queue)
      if f[5] and redis.call('HGET', P .. ':unique', f[5]) == id then redis.call('HDEL', P .. ':unique', f[5]) end
      count(state, queue, -1)
      redis.call('DEL', jk)
      redis.call('ZREM', P .. ':ids', id)
      redis.call('ZREM', P .. ':state:' .. state, id)
      redis.call('ZREM', P .. ':done:' .. state, id)
    elseif action == 'retry' then
      redis.call('HSET', jk, 'attempt', 0, 'run_at', now)
      redis.call('HDEL', jk, 'finalized_at', 'lease_expires_at')
      redis.call('ZREM', P .. ':done:' .. state, id)
      move(id, queue, state, 'available')
      place(id, queue, f[3], now, now)
      redis.call('PUBLISH', P .. ':wake', queue)
    elseif action == 'runNow' then
      unplace(id, queue)
      redis.call('HSET', jk, 'run_at', now)
      place(id, queue, f[3], now, now)
      redis.call('PUBLISH', P .. ':wake', queue)
    else
      unplace(id, queue)
      finish(id, queue, state, action == 'cancel' and 'cancelled' or 'discarded', now)
    end
    changed[#changed + 1] = id
  end
end
return changed
`,
);
