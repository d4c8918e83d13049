/**
 * Inserts jobs: ARGV = now (epoch ms, or '' for the server's clock), row count, then 9 fields per
 * row (id, queue, kind, args, priority, max_attempts, run_at or '', delay_ms, metadata or '').
 * Ids come from the client. Publishes each queue once on `P:wake`. Returns the row count.
 *
 * @internal
 */
import { defineScript } from '../redis-port.ts';
import { INSERT_PRELUDE } from './prelude.ts';

export const INSERT_FIELDS = 9;

export const insertScript = defineScript(
  'insert',
  `${INSERT_PRELUDE}
local now = clock(ARGV[1])
local n = tonumber(ARGV[2])
-- Per job one HSET; the index sets, counts and wake-ups once per call (variadic ZADDs of at most
-- 1,000 arguments, as unpack has a C stack limit), since each redis.call costs the script far
-- more than one more member in a call. A new job has no unique key, so move() has nothing to do.
local ids, states, scheduled, ready, added = {}, {}, {}, {}, {}
for i = 0, n - 1 do
  local o = 2 + i * ${9}
  local id, queue, priority = ARGV[o + 1], ARGV[o + 2], ARGV[o + 5]
  local at = tonumber(ARGV[o + 7]) or (now + tonumber(ARGV[o + 8]))
  if ARGV[o + 9] == '' then
    redis.call('HSET', jkey(id), 'id', id, 'queue', queue, 'kind', ARGV[o + 3], 'args', ARGV[o + 4], 'priority', priority,
      'attempt', 0, 'max_attempts', ARGV[o + 6], 'run_at', at, 'created_at', now, 'state', 'available')
  else
    redis.call('HSET', jkey(id), 'id', id, 'queue', queue, 'kind', ARGV[o + 3], 'args', ARGV[o + 4], 'priority', priority,
      'attempt', 0, 'max_attempts', ARGV[o + 6], 'run_at', at, 'created_at', now, 'state', 'available', 'metadata', ARGV[o + 9])
  end
  ids[#ids + 1] = 0
  ids[#ids + 1] = id
  if at <= now then
    local r = ready[queue]
    if not r then r = {}; ready[queue] = r end
    r[#r + 1] = ready_score(priority, at)
    r[#r + 1] = id
  else
    scheduled[#scheduled + 1] = at
    scheduled[#scheduled + 1] = id
  end
  added[queue] = (added[queue] or 0) + 1
end
local function zadd(key, list)
  for i = 1, #list, 1000 do redis.call('ZADD', key, unpack(list, i, math.min(i + 999, #list))) end
end
zadd(P .. ':ids', ids)
zadd(P .. ':state:available', ids)
zadd(P .. ':scheduled', scheduled)
for q, list in pairs(ready) do zadd(P .. ':ready:' .. q, list) end
for q, c in pairs(added) do
  count('available', q, c)
  redis.call('PUBLISH', P .. ':wake', q)
end
return n
`,
);

/**
 * Inserts one job unless a job holds its unique key: ARGV = the insert's fields for one row
 * (now, 1, 9 fields), then unique_key, unique_states and the reservation token ('' for none;
 * see reserveUniqueScript), whose reservation it ends either way. Returns {1, id} or {0, holder id}.
 */
export const insertUniqueScript = defineScript(
  'insert-unique',
  `${INSERT_PRELUDE}
local now = clock(ARGV[1])
local id, queue, priority = ARGV[3], ARGV[4], ARGV[7]
local key, states, token = ARGV[12], ARGV[13], ARGV[14]
local pending = P .. ':unique-pending:' .. key
if token ~= '' then
  local cur = redis.call('GET', pending)
  if cur and string.sub(cur, 1, #token + 1) == token .. '|' then redis.call('DEL', pending) end
end
local holder = redis.call('HGET', P .. ':unique', key)
if holder then return { 0, holder } end
local at = tonumber(ARGV[9]) or (now + tonumber(ARGV[10]))
redis.call('HSET', jkey(id), 'id', id, 'queue', queue, 'kind', ARGV[5], 'args', ARGV[6], 'priority', priority,
  'attempt', 0, 'max_attempts', ARGV[8], 'run_at', at, 'created_at', now, 'unique_key', key, 'unique_states', states)
if ARGV[11] ~= '' then redis.call('HSET', jkey(id), 'metadata', ARGV[11]) end
redis.call('HSET', P .. ':unique', key, id)
redis.call('ZADD', P .. ':ids', 0, id)
move(id, queue, false, 'available')
place(id, queue, priority, at, now)
redis.call('PUBLISH', P .. ':wake', queue)
return { 1, id }
`,
);

/**
 * Reserves a unique key for a job that will be inserted at the EXEC of a MULTI, the way an open
 * SQL transaction holds a key in a unique index: others wait until the reservation ends (the
 * insert at EXEC, a DISCARD, or its expiry). ARGV = key, token, id, ttl ms. Returns {'held',
 * holder id}, {'mine', id} (this token reserved it already), {'wait', id} or {'reserved', id}.
 */
export const reserveUniqueScript = defineScript(
  'reserve-unique',
  `${INSERT_PRELUDE}
local holder = redis.call('HGET', P .. ':unique', ARGV[1])
if holder then return { 'held', holder } end
local pending = P .. ':unique-pending:' .. ARGV[1]
local cur = redis.call('GET', pending)
if cur then
  local sep = string.find(cur, '|', 1, true)
  local token, id = string.sub(cur, 1, sep - 1), string.sub(cur, sep + 1)
  if token == ARGV[2] then return { 'mine', id } end
  return { 'wait', id }
end
redis.call('SET', pending, ARGV[2] .. '|' .. ARGV[3], 'PX', ARGV[4])
return { 'reserved', ARGV[3] }
`,
);

/** Ends a reservation if `token` still holds it (a DISCARD). ARGV = key, token. */
export const releaseUniqueScript = defineScript(
  'release-unique',
  `${INSERT_PRELUDE}
local pending = P .. ':unique-pending:' .. ARGV[1]
local cur = redis.call('GET', pending)
if cur and string.sub(cur, 1, #ARGV[2] + 1) == ARGV[2] .. '|' then redis.call('DEL', pending) end
return 0
`,
);
