/**
 * Lua shared by every script: key names, the clock, and the moves between states that keep the
 * indexes in step. Every key of one jobs table shares the hash tag in `KEYS[1]` (e.g.
 * `{concordia_jobs}`), so a script touches one slot and works on Redis Cluster.
 *
 * Layout under the prefix `P` = KEYS[1]:
 * - `P:job:<id>` hash: the job (the SQL columns, times as epoch ms);
 * - `P:ids` and `P:state:<state>` sorted sets (score 0, ordered by id text = creation order);
 * - `P:ready:<queue>` sorted set of due jobs, score = (priority + 1000) · 2^42 + run_at, so one
 *   range read gives the claim order (priority, run_at, then id for equal scores);
 * - `P:scheduled` sorted set of available jobs not yet due, by run_at; claims promote them;
 * - `P:running` by lease expiry (the rescuer's index), `P:done:<state>` by finish time (pruning);
 * - `P:counts` hash `<state>|<queue>` → count; `P:unique` hash key → id; `P:paused` set.
 *
 * @internal
 */
export const INSERT_PRELUDE = `
local P = KEYS[1]
local function jkey(id) return P .. ':job:' .. id end
local function clock(arg)
  local n = tonumber(arg)
  if n then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local BITS = { available = 1, running = 2, completed = 4, cancelled = 8, discarded = 16 }
local function ready_score(priority, run_at) return (tonumber(priority) + 1000) * 4398046511104 + tonumber(run_at) end
local function count(state, queue, by) redis.call('HINCRBY', P .. ':counts', state .. '|' .. queue, by) end
-- Moves a job to state 'to' (leaving the state named by the 'from' argument, false for a new job): its state field and
-- index, the counts, and its unique key, kept only while the new state is one the key covers.
local function move(id, queue, from, to)
  local jk = jkey(id)
  redis.call('HSET', jk, 'state', to)
  if from then
    redis.call('ZREM', P .. ':state:' .. from, id)
    count(from, queue, -1)
  end
  redis.call('ZADD', P .. ':state:' .. to, 0, id)
  count(to, queue, 1)
  local f = redis.call('HMGET', jk, 'unique_key', 'unique_states')
  if f[1] and f[2] and bit.band(tonumber(f[2]), BITS[to]) == 0 then
    if redis.call('HGET', P .. ':unique', f[1]) == id then redis.call('HDEL', P .. ':unique', f[1]) end
    redis.call('HDEL', jk, 'unique_key')
  end
end
-- An available job waits in its queue's ready set when due, in the scheduled set otherwise.
local function place(id, queue, priority, run_at, now)
  if tonumber(run_at) <= now then
    redis.call('ZADD', P .. ':ready:' .. queue, ready_score(priority, run_at), id)
  else
    redis.call('ZADD', P .. ':scheduled', run_at, id)
  end
end
`;

/**
 * Everything the other scripts share. Enqueues use {@link INSERT_PRELUDE} alone: inside a MULTI
 * a script goes out in full with every call (EVAL, never EVALSHA), so the part they do not
 * need would be sent and hashed again with each job.
 */
export const PRELUDE = `${INSERT_PRELUDE}
local function unplace(id, queue)
  redis.call('ZREM', P .. ':ready:' .. queue, id)
  redis.call('ZREM', P .. ':scheduled', id)
end
-- Ends a job in a final state at 'now'.
local function finish(id, queue, from, to, now)
  local jk = jkey(id)
  redis.call('HSET', jk, 'finalized_at', now)
  redis.call('HDEL', jk, 'lease_expires_at')
  redis.call('ZREM', P .. ':running', id)
  move(id, queue, from, to)
  redis.call('ZADD', P .. ':done:' .. to, now, id)
end
-- Appends one entry (JSON object text) to the errors array text.
local function push_error(id, entry)
  local jk = jkey(id)
  local e = redis.call('HGET', jk, 'errors')
  if e and #e > 2 then e = string.sub(e, 1, -2) .. ',' .. entry .. ']' else e = '[' .. entry .. ']' end
  redis.call('HSET', jk, 'errors', e)
end
-- A job's unique key is kept only while its new state 'to' is one the key covers (move() does
-- this for single moves; batched moves call it with the fields they already read).
local function keep_unique(id, jk, key, states, to)
  if key and states and bit.band(tonumber(states), BITS[to]) == 0 then
    if redis.call('HGET', P .. ':unique', key) == id then redis.call('HDEL', P .. ':unique', key) end
    redis.call('HDEL', jk, 'unique_key')
  end
end
-- Index writes gathered over a batch of jobs and sent as one variadic command per key at the
-- end: every redis.call costs the script far more than one more member in a call, so a claim or
-- completion of 100 jobs makes a few index calls instead of several per job. Only for batches
-- whose removals and additions touch different keys (the order between them is not kept).
local function batch() return { zrem = {}, zadd = {}, counts = {} } end
local function list_of(t, key)
  local list = t[key]
  if not list then list = {}; t[key] = list end
  return list
end
local function batch_zrem(b, key, id)
  local list = list_of(b.zrem, key)
  list[#list + 1] = id
end
local function batch_zadd(b, key, score, id)
  local list = list_of(b.zadd, key)
  list[#list + 1] = score
  list[#list + 1] = id
end
local function batch_count(b, state, queue, by)
  local field = state .. '|' .. queue
  b.counts[field] = (b.counts[field] or 0) + by
end
-- Sends a batch's writes, at most 1,000 arguments per call (unpack has a C stack limit).
local function flush(b)
  for key, list in pairs(b.zrem) do
    for i = 1, #list, 1000 do redis.call('ZREM', key, unpack(list, i, math.min(i + 999, #list))) end
  end
  for key, list in pairs(b.zadd) do
    for i = 1, #list, 1000 do redis.call('ZADD', key, unpack(list, i, math.min(i + 999, #list))) end
  end
  for field, by in pairs(b.counts) do redis.call('HINCRBY', P .. ':counts', field, by) end
end
-- The queue of a running job whose lease token is 'token', or nil when the fence no longer holds.
local function fenced(id, token)
  local f = redis.call('HMGET', jkey(id), 'state', 'lease_token', 'queue')
  if f[1] == 'running' and f[2] == token then return f[3] end
  return nil
end
`;
