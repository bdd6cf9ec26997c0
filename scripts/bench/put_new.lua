-- PUT small Turtle documents to URLs that do not exist yet.
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local path = string.format("/bench/put/%d-%d.ttl", thread_id, counter)
  return wrk.format("PUT", path, { ["Content-Type"] = "text/turtle" }, '<#it> <http://ex.org/n> ' .. counter .. ' .')
end
