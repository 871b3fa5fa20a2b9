-- Label Studio's labelling, one annotator (API token) per wrk thread and connection.
-- MODE=loop: as its editor labels, GET the project's next task, then POST an annotation
-- to it, again and again. MODE=annotations: POST annotations only, each thread to its own
-- tasks (thread k: k, k + THREADS, ...), the most labels Label Studio can take in.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end

function init(args)
  local k = 0
  for line in io.lines(os.getenv("TOKENS")) do
    if k == index - 1 then token = line end
    k = k + 1
  end
  project = os.getenv("PROJECT")
  loop = os.getenv("MODE") == "loop"
  stride = tonumber(os.getenv("THREADS"))
  first = tonumber(os.getenv("FIRST_TASK"))
  task, serial = nil, 0
  body = '{"result": [{"from_name": "pw", "to_name": "left", "type": "pairwise", '
    .. '"value": {"selected": "left"}}], "lead_time": 3.5}'
  headers = {["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json"}
end

function request()
  if not loop then
    local id = first + (index - 1) + serial * stride
    serial = serial + 1
    return wrk.format("POST", "/api/tasks/" .. id .. "/annotations/", headers, body)
  end
  if task then
    local id = task
    task = nil
    return wrk.format("POST", "/api/tasks/" .. id .. "/annotations/", headers, body)
  end
  return wrk.format("GET", "/api/projects/" .. project .. "/next", headers)
end

function response(status, headers, body)
  if loop and status == 200 then
    task = body:match('^{"id":(%d+)')
  end
end
