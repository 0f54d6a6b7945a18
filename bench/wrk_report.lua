-- wrk's summary as one JSON line: wrk's own --latency table stops at 50/75/90/99 and has no p95.
-- Only done() is defined: no request() or response() hook, so wrk keeps sending its one fixed request
-- on its static fast path, exactly as a run without a script does.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"status_errors":%.0f,' ..
    '"connect_errors":%.0f,"read_errors":%.0f,"write_errors":%.0f,"timeouts":%.0f,' ..
    '"p50_us":%.0f,"p95_us":%.0f,"p99_us":%.0f,"max_us":%.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
