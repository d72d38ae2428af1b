-- wrk script for the Hearth intake benchmark.
--
-- POSTs realistic, varied contact requests (schema: POST /api/v1/contact-requests
-- in the Hearth spec). A pool of ~200 bodies is generated in each thread at init
-- and pre-formatted, so request() only picks one; the generated data never
-- depends on the server, and both targets (hearth and nginx) get the same mix.
--
-- response() does the same work for every target (hearth and nginx alike): it
-- extracts "reference" and "receipt" from the body and keeps the reference. A 201
-- counts as created only if both were found; anything else counts per status (a
-- 201 without them shows as "201:N" in statuses). done() prints one
-- machine-readable line that intake-bench.sh parses:
--   bench-result created=N non201=M statuses=400:3,500:1 errors=connect:0,read:0,write:0,timeout:0
--
-- Optional: BENCH_POOL (pool size, default 200), BENCH_SEED (base seed),
-- BENCH_DUMP=FILE (thread 1 writes its pool, one JSON body per line, for checking),
-- BENCH_REFS=FILE (done() appends the "reference" of every 201 response, one a line).

local POOL_SIZE = tonumber(os.getenv("BENCH_POOL") or "") or 200
local BASE_SEED = tonumber(os.getenv("BENCH_SEED") or "") or os.time()
local DUMP = os.getenv("BENCH_DUMP")
local REFS = os.getenv("BENCH_REFS")
if REFS == "" then REFS = nil end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

-- ---------------------------------------------------------------- setup/done
local threads = {}
local thread_counter = 0

function setup(thread)
   thread_counter = thread_counter + 1
   thread:set("thread_id", thread_counter)
   table.insert(threads, thread)
end

-- ---------------------------------------------------------------- JSON
local function json_string(s)
   s = s:gsub('[%c"\\]', function(c)
      if c == '"' then return '\\"'
      elseif c == "\\" then return "\\\\"
      elseif c == "\n" then return "\\n"
      elseif c == "\t" then return "\\t"
      else return string.format("\\u%04x", c:byte()) end
   end)
   return '"' .. s .. '"'
end

-- Encodes the small subset used here: tables with an explicit key order
-- ({ _order = {...} }), arrays, strings, numbers, booleans.
local function json(v)
   local t = type(v)
   if t == "string" then return json_string(v)
   elseif t == "number" then return tostring(v)
   elseif t == "boolean" then return v and "true" or "false"
   elseif t == "table" then
      if v._order then
         local parts = {}
         for _, k in ipairs(v._order) do
            if v[k] ~= nil then
               table.insert(parts, json_string(k) .. ":" .. json(v[k]))
            end
         end
         return "{" .. table.concat(parts, ",") .. "}"
      else
         local parts = {}
         for _, item in ipairs(v) do table.insert(parts, json(item)) end
         return "[" .. table.concat(parts, ",") .. "]"
      end
   end
   error("cannot encode " .. t)
end

-- ---------------------------------------------------------------- data
local function pick(list) return list[math.random(#list)] end

local function shuffled(list)
   local copy = {}
   for i, v in ipairs(list) do copy[i] = v end
   for i = #copy, 2, -1 do
      local j = math.random(i)
      copy[i], copy[j] = copy[j], copy[i]
   end
   return copy
end

local FIRST = { "Sam", "Alex", "Jo", "Chris", "Priya", "Aisha", "Megan", "Tom", "Ruth",
   "Daniel", "Fatima", "Lewis", "Niamh", "Owen", "Grace", "Kwame", "Leah", "Ibrahim",
   "Siân", "Zoë", "Łucja", "Aoife", "Mateusz", "Chloé", "Yusuf", "Hannah", "Rhys" }
local LAST = { "Smith", "Khan", "O'Neill", "Jones", "Patel", "Williams", "Nowak",
   "MacLeod", "Evans", "Begum", "Clarke", "Murphy", "Ahmed", "Davies", "Okafor" }
local NICK = { "S", "just call me J", "Ms R", "Bee", "the lodger's sister", "Mum of two" }

local STREETS = { "Station Road", "High Street", "Church Lane", "Victoria Terrace",
   "Mill Close", "Park View", "Queen Street", "Orchard Way" }
local TOWNS = { "Leeds", "Bristol", "Cardiff", "Norwich", "Derby", "Glasgow", "Belfast",
   "Hull", "Plymouth", "Carlisle", "Luton", "Swansea" }
local ORGS = { "Rape Crisis (local centre)", "Victim Support", "my GP surgery",
   "the Women's Aid refuge", "Citizens Advice", "my union rep", "a hospital ISVA" }

local SAFE_TIMES = {
   "Weekday mornings before 11am.",
   "After 7pm on weekdays; never at weekends when my partner is home.",
   "Any time on Tuesdays and Thursdays.",
   "Lunchtimes (12-2) only, I am at work otherwise.",
   "Please text first and wait for a reply before calling.",
   "Evenings after the children are in bed, roughly 8:30pm onwards.\nNot Sundays.",
   "Only between 10am and 3pm.",
}

local REGIONS = { "north-east", "north-west", "yorkshire-humber", "east-midlands",
   "west-midlands", "east", "london", "south-east", "south-west", "wales", "scotland",
   "northern-ireland" }
local WANTS = { "support", "reopen", "information" }
local SCOPES = { "support", "review", "police", "prosecution" }

local SENTENCES = {
   "I reported what happened to the police a few years ago but I was told there was not enough evidence to go further.",
   "I have been thinking about it again since I heard the case might be looked at again.",
   "It happened when I was living in a shared house and I did not know who to talk to at the time.",
   "I would like to understand what options I have now, without committing to anything yet.",
   "My support worker at the time has since left and I lost contact with the service.",
   "I am not sure whether my original statement is still on file or whether anyone read it.",
   "Some days I want it reopened and some days I just want someone to listen.",
   "Please do not send letters to my home address.",
   "I can give more details later but I find it hard to write it all down in one go.",
   "I was seventeen when it started and it went on for about two years.",
   "A friend of mine went through something similar with the same person.",
   "The officer I spoke to was kind but I never heard back after the first interview.",
   "I have moved since then and changed my phone number twice.",
   "I would prefer to speak to a woman if that is possible.",
   "English is my second language so a phone call may be easier than writing.",
   "I have kept some messages and a diary from that time, in case that matters.",
   "I do not want my family to find out that I have contacted you.",
   "I want information about what a review would actually involve and how long it takes.",
   "I have counselling on Wednesdays, so that day is usually difficult for me.",
   "Thank you for reading this.",
}

local function phone()
   return string.format("07700 %06d", math.random(900000, 900999))
end

local function email(first)
   local user = (first:gsub("[^%w]", "")):lower()
   if user == "" then user = "contact" end
   return string.format("%s.%d@example.org", user, math.random(10, 9999))
end

local function postal()
   return string.format("%d %s, %s, %s%d %dXX", math.random(1, 220), pick(STREETS),
      pick(TOWNS), pick({ "LS", "BS", "CF", "NR", "DE", "G", "BT" }), math.random(1, 29),
      math.random(1, 9))
end

local function contact_value(method, first)
   if method == "phone" then return phone()
   elseif method == "email" then return email(first)
   elseif method == "post" then return postal()
   else return pick(ORGS) .. ", ask for the duty worker" end
end

local function account_text()
   local target = math.random(300, 1500)
   local order = shuffled(SENTENCES)
   local parts, len = {}, 0
   while len < target do
      local s = order[(#parts % #order) + 1]
      if #parts > 0 and math.random() < 0.2 then
         s = "\n\n" .. s
      elseif #parts > 0 then
         s = " " .. s
      end
      table.insert(parts, s)
      len = len + #s
   end
   return table.concat(parts)
end

local function date_in_days(days)
   return os.date("!%Y-%m-%d", os.time() + days * 86400)
end

local function make_body()
   local first = pick(FIRST)
   local req = { _order = { "preferredName", "contact", "region", "wants", "account", "consents" } }

   local r = math.random()
   if r < 0.6 then req.preferredName = first
   elseif r < 0.85 then req.preferredName = first .. " " .. pick(LAST)
   elseif r < 0.95 then req.preferredName = pick(NICK) end -- else omitted

   local methods = shuffled({ "phone", "email", "post", "organisation" })
   req.contact = {}
   for i = 1, math.random(1, 2) do
      local c = { _order = { "method", "value", "safeTimes", "mayLeaveMessage" } }
      c.method = methods[i]
      c.value = contact_value(c.method, first)
      c.safeTimes = pick(SAFE_TIMES)
      if c.method == "phone" then c.mayLeaveMessage = math.random() < 0.4 end
      table.insert(req.contact, c)
   end

   req.region = pick(REGIONS)

   req.wants = {}
   local wants = shuffled(WANTS)
   for i = 1, math.random(1, 3) do table.insert(req.wants, wants[i]) end

   req.account = account_text()

   req.consents = {}
   local scopes = shuffled(SCOPES)
   for i = 1, math.random(0, 2) do
      local c = { _order = { "scope", "expires" } }
      c.scope = scopes[i]
      if math.random() < 0.5 then c.expires = date_in_days(math.random(30, 3 * 365)) end
      table.insert(req.consents, c)
   end

   return json(req)
end

-- ---------------------------------------------------------------- per thread
local requests = {}
created = 0
non201 = 0
statuses = {}
refs = {}

function init(args)
   math.randomseed(BASE_SEED + 7919 * (thread_id or 0))
   for _ = 1, 10 do math.random() end
   local dump = nil
   if DUMP and DUMP ~= "" and thread_id == 1 then dump = io.open(DUMP, "w") end
   for i = 1, POOL_SIZE do
      local body = make_body()
      if dump then dump:write(body, "\n") end
      requests[i] = wrk.format(nil, nil, nil, body)
   end
   if dump then dump:close() end
end

function request()
   return requests[math.random(#requests)]
end

function response(status, headers, body)
   -- The same parsing whatever the target, so the client's work per response is equal.
   local ref = body and body:match('"reference"%s*:%s*"(HR%-[0-9A-Za-z%-]+)"')
   local receipt = body and body:match('"receipt"%s*:%s*"([0-9A-Za-z%-]+)"')
   if status == 201 and ref and receipt then
      created = created + 1
      refs[#refs + 1] = ref
   else
      non201 = non201 + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, reqs)
   local total_created, total_non201, by_status = 0, 0, {}
   local refs_out = REFS and io.open(REFS, "a") or nil
   for _, thread in ipairs(threads) do
      if refs_out then
         for _, ref in ipairs(thread:get("refs") or {}) do refs_out:write(ref, "\n") end
      end
      total_created = total_created + (thread:get("created") or 0)
      total_non201 = total_non201 + (thread:get("non201") or 0)
      local st = thread:get("statuses") or {}
      for code, n in pairs(st) do
         by_status[code] = (by_status[code] or 0) + n
      end
   end
   if refs_out then refs_out:close() end
   local codes = {}
   for code, _ in pairs(by_status) do table.insert(codes, code) end
   table.sort(codes)
   local parts = {}
   for _, code in ipairs(codes) do
      table.insert(parts, string.format("%d:%d", code, by_status[code]))
   end
   local e = summary.errors
   io.write(string.format(
      "bench-result created=%d non201=%d statuses=%s errors=connect:%d,read:%d,write:%d,timeout:%d\n",
      total_created, total_non201, (#parts > 0 and table.concat(parts, ",") or "-"),
      e.connect, e.read, e.write, e.timeout))
end
