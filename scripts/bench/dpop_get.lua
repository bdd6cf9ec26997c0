-- GET with a DPoP-bound token and a fresh proof per request (each proof is used once, as the
-- server's replay cache demands). Proofs come from $PROOFS, one per line; thread i takes
-- every THREADS-th line starting at i.
local token = os.getenv("TOKEN")
local proofs_file = os.getenv("PROOFS")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  proofs = {}
  local n = 0
  local stride = tonumber(os.getenv("THREADS") or "2")
  for line in io.lines(proofs_file) do
    if n % stride == id then
      table.insert(proofs, line)
    end
    n = n + 1
  end
  next_proof = 1
end

function request()
  local proof = proofs[next_proof]
  next_proof = next_proof + 1
  if proof == nil then
    proof = "exhausted"
  end
  return wrk.format("GET", nil, { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proof })
end
