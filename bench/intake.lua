-- wrk script for bench/intake.py: POSTs a body with a new e-mail on every request.
--
--   wrk -s bench/intake.lua URL -- <e-mail prefix> <accepted status> <content type> <body> [<authorization>]
--
-- The body holds @@LOCAL@@ where the e-mail's local part goes: <prefix>-<thread>-<n>, unique
-- within a run (the body template carries the domain, encoded as its format needs). `done` prints one line,
-- "BENCH-RESULT {json}", that intake.py reads; wrk's own report is left as it is.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  prefix, accepted_status, body = args[1], tonumber(args[2]), args[4] or ""
  headers = { ["Content-Type"] = args[3] }
  if args[5] and args[5] ~= "" then headers["Authorization"] = args[5] end
  sent, accepted, others = 0, 0, {}
end

function request()
  sent = sent + 1
  local value = string.format("%s-%d-%d", prefix, thread_id, sent)
  -- A function as the replacement: its result is taken literally (no % escapes).
  local filled = string.gsub(body, "@@LOCAL@@", function() return value end)
  return wrk.format("POST", nil, headers, filled)
end

function response(status, _, _)
  if status == accepted_status then
    accepted = accepted + 1
  else
    others[status] = (others[status] or 0) + 1
  end
end

local function ms(microseconds)
  return string.format("%.2f", microseconds / 1000)
end

function done(summary, latency, _)
  local sent_total, accepted_total, others_total = 0, 0, {}
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    accepted_total = accepted_total + thread:get("accepted")
    for status, count in pairs(thread:get("others")) do
      others_total[status] = (others_total[status] or 0) + count
    end
  end
  local statuses = {}
  for status, count in pairs(others_total) do
    table.insert(statuses, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"duration_us": %d, "sent": %d, "responses": %d, "accepted": %d, '
      .. '"other_statuses": {%s}, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "p50_ms": %s, "p95_ms": %s, "p99_ms": %s, '
      .. '"max_ms": %s}\n',
    summary.duration, sent_total, summary.requests, accepted_total, table.concat(statuses, ", "),
    errors.connect, errors.read, errors.write, errors.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)),
    ms(latency.max)
  ))
end
