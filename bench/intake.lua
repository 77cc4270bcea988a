-- wrk script for bench/intake.py: POSTs a form body with a new e-mail on every request.
--
--   wrk -s bench/intake.lua URL -- <e-mail prefix> <e-mail domain> <accepted status> <rest of body>
--
-- The e-mail is <prefix>-<thread>-<n>@<domain>, unique within a run. `done` prints one line,
-- "BENCH-RESULT {json}", that intake.py reads; wrk's own report is left as it is.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  prefix, domain, accepted_status, rest = args[1], args[2], tonumber(args[3]), args[4] or ""
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  sent, accepted, others = 0, 0, {}
end

function request()
  sent = sent + 1
  local email = string.format("%s-%d-%d%%40%s", prefix, thread_id, sent, domain)
  return wrk.format("POST", nil, headers, "email=" .. email .. "&" .. rest)
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
