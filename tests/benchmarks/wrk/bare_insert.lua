-- The floor to compare the labelling loop against: a DRF endpoint that parses a JSON body
-- and inserts one row (tests/benchmarks/bench_assignment.py serves it at /bench/insert/).
wrk.method = "POST"
wrk.body = '{"payload": "x"}'
wrk.headers["Content-Type"] = "application/json"
