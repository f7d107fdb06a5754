-- wrk script: POST /v1/messages?beta=true with a Claude Code body and headers.
-- Environment: BENCH_BODY (body file), BENCH_HEADERS (file of "name: value" lines), BENCH_KEY
-- (x-api-key sent to every target), BENCH_COUNT_ATTEMPTS=1 to count responses that QCC served
-- after more than one attempt (x-qcc-attempts > 1).
-- done() prints one line "WRK_RESULT {json}" with exact percentiles in microseconds.

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local data = f:read("*a")
  f:close()
  return data
end

wrk.method = "POST"
wrk.path = "/v1/messages?beta=true"
wrk.body = slurp(os.getenv("BENCH_BODY"))
for line in slurp(os.getenv("BENCH_HEADERS")):gmatch("[^\r\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
wrk.headers["x-api-key"] = os.getenv("BENCH_KEY")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  multi_attempt = 0
  counted = 0
end

-- Defining response() makes wrk parse every response's headers: only do it when asked, so the
-- latency runs measure the same client work for every target.
if os.getenv("BENCH_COUNT_ATTEMPTS") == "1" then
  function response(status, headers, body)
    counted = counted + 1
    local attempts = tonumber(headers["x-qcc-attempts"] or headers["X-Qcc-Attempts"] or "1")
    if attempts and attempts > 1 then multi_attempt = multi_attempt + 1 end
  end
end

function done(summary, latency, requests)
  local multi, seen = 0, 0
  for _, t in ipairs(threads) do
    multi = multi + (t:get("multi_attempt") or 0)
    seen = seen + (t:get("counted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%.1f,"p99_us":%.1f,"mean_us":%.1f,' ..
    '"max_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,' ..
    '"err_timeout":%d,"multi_attempt":%d,"counted":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout, multi, seen))
end
