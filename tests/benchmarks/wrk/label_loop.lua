-- The annotator's labelling loop for wrk, one annotator per wrk thread and connection, as
-- the label page runs it: POST next once, then POST a label for the pair in hand, again
-- and again, each label's response carrying the next pair ("next"). After an error or a
-- finished annotator, POST next again (for the next annotator). Annotators
-- (cookie and CSRF token, entered through the real pages beforehand) come from the file
-- named by the ANNOTATORS environment variable, one per line: "<cookie>\t<csrf>"; a
-- thread whose annotator is done moves on to its next one.
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

function init(args)
  mine = {}
  local total = tonumber(os.getenv("THREADS"))
  local k = 0
  for line in io.lines(os.getenv("ANNOTATORS")) do
    if k % total == index - 1 then
      local cookie, csrf = line:match("([^\t]+)\t([^\t]+)")
      table.insert(mine, {cookie = cookie, csrf = csrf})
    end
    k = k + 1
  end
  current, pending, serial = 1, nil, 0
  slug = os.getenv("SLUG")
  exhausted = 0
end

local function headers(a)
  return {
    ["Cookie"] = a.cookie,
    ["X-CSRFToken"] = a.csrf,
    ["Content-Type"] = "application/json",
    ["Referer"] = "http://127.0.0.1/",
  }
end

function request()
  local a = mine[current] or mine[#mine]
  if pending then
    serial = serial + 1
    local body = string.format(
      '{"assignment_id": %s, "submission_id": "%08x-0000-4000-8000-%012x", "choice": "left", "strength": 2}',
      pending, index, serial + index * 1000000)
    return wrk.format("POST", "/api/studies/" .. slug .. "/labels/", headers(a), body)
  end
  return wrk.format("POST", "/api/studies/" .. slug .. "/next/", headers(a), "{}")
end

function response(status, headers, body)
  -- Both a next/ answer and a label's answer name the pair to label now, if any.
  local id = body:match('"assignment_id":%s*(%d+)')
  if (status == 200 or status == 201) and id then
    pending = id
  elseif status == 200 or status == 201 then
    pending = nil
    current = current + 1  -- this annotator is done: the next one takes over
    if current > #mine then exhausted = exhausted + 1 end
  else
    pending = nil  -- refused or throttled: ask next/ again
  end
end
