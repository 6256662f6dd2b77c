#!/usr/bin/env python3
"""Writes validation.json: input -> normalized output or field errors.

Every expectation below is written by hand (or by a rule stated here), not computed by the
code under test. Run: python3 test-vectors/gen_validation.py > test-vectors/validation.json
"""
import json

NOW = "2030-01-01T09:00:00Z"
cases = []


def ok(name, kind, inp, out):
    cases.append({"name": name, "kind": kind, "input": inp, "expected": {"ok": out}})


def err(name, kind, inp, *errors):
    cases.append({"name": name, "kind": kind, "input": inp,
                  "expected": {"errors": [{"field": f, "code": c} for f, c in errors]}})


def task(**kw):
    base = {"title": None, "description": None, "due_datetime": None, "priority": "Medium",
            "recurrence_pattern": "none", "rrule": None, "recurrence_end_date": None,
            "timezone": "UTC", "tag_ids": []}
    base.update(kw)
    return base


DUE = "2030-01-02T10:00:00Z"
TC = "task_create"
# --- task_create: title
ok("minimal task", TC, {"title": "Buy milk"}, task(title="Buy milk"))
ok("title is trimmed", TC, {"title": "  Buy milk \t"}, task(title="Buy milk"))
err("title missing", TC, {}, ("title", "required"))
err("title null", TC, {"title": None}, ("title", "required"))
err("title empty", TC, {"title": ""}, ("title", "required"))
err("title only spaces", TC, {"title": "    "}, ("title", "required"))
err("title with line break", TC, {"title": "a\nb"}, ("title", "invalid_format"))
err("title is a number", TC, {"title": 5}, ("title", "invalid_format"))
for n in [1, 2, 50, 199, 200]:
    ok(f"title of {n} ascii chars", TC, {"title": "x" * n}, task(title="x" * n))
    ok(f"title of {n} two-byte chars", TC, {"title": "é" * n}, task(title="é" * n))
    ok(f"title of {n} emoji", TC, {"title": "🦀" * n}, task(title="🦀" * n))
for n in [201, 202, 300, 1000]:
    err(f"title of {n} ascii chars", TC, {"title": "x" * n}, ("title", "too_long"))
    err(f"title of {n} two-byte chars", TC, {"title": "é" * n}, ("title", "too_long"))
ok("title of 200 chars after trimming 10 spaces", TC, {"title": "     " + "y" * 200 + "     "},
   task(title="y" * 200))
# --- description
ok("description kept as given", TC, {"title": "t", "description": "  two\nlines\t"},
   task(title="t", description="  two\nlines\t"))
ok("description empty string", TC, {"title": "t", "description": ""}, task(title="t", description=""))
ok("description 4000 chars", TC, {"title": "t", "description": "d" * 4000}, task(title="t", description="d" * 4000))
err("description 4001 chars", TC, {"title": "t", "description": "d" * 4001}, ("description", "too_long"))
err("description with NUL", TC, {"title": "t", "description": "a\u0000b"}, ("description", "invalid_format"))
ok("description null", TC, {"title": "t", "description": None}, task(title="t"))
# --- priority
for raw, canon in [("High", "High"), ("high", "High"), ("HIGH", "High"), ("hIgH", "High"), ("Medium", "Medium"),
                   ("medium", "Medium"), ("Low", "Low"), ("low", "Low"), (" Low ", "Low")]:
    ok(f"priority {raw!r}", TC, {"title": "t", "priority": raw}, task(title="t", priority=canon))
for raw in ["Urgent", "", "H", "Highest", "none"]:
    err(f"priority {raw!r}", TC, {"title": "t", "priority": raw}, ("priority", "invalid_value"))
err("priority is a number", TC, {"title": "t", "priority": 1}, ("priority", "invalid_format"))
# --- due_datetime
ok("due in UTC", TC, {"title": "t", "due_datetime": DUE}, task(title="t", due_datetime=DUE))
ok("due with offset becomes UTC", TC, {"title": "t", "due_datetime": "2030-01-02T15:30:00+05:30"},
   task(title="t", due_datetime=DUE))
ok("due with fraction", TC, {"title": "t", "due_datetime": "2030-01-02T10:00:00.250Z"},
   task(title="t", due_datetime="2030-01-02T10:00:00.250Z"))
ok("due 30 s in the past is within the grace", TC, {"title": "t", "due_datetime": "2030-01-01T08:59:30Z"},
   task(title="t", due_datetime="2030-01-01T08:59:30Z"))
ok("due exactly now", TC, {"title": "t", "due_datetime": NOW}, task(title="t", due_datetime=NOW))
err("due 2 minutes in the past", TC, {"title": "t", "due_datetime": "2030-01-01T08:58:00Z"}, ("due_datetime", "in_past"))
err("due last year", TC, {"title": "t", "due_datetime": "2029-01-01T00:00:00Z"}, ("due_datetime", "in_past"))
for raw in ["2030-01-02T10:00:00", "2030-01-02", "tomorrow", "", "2030-13-01T00:00:00Z", "2030-02-30T00:00:00Z",
            "10:00", "1893456000"]:
    err(f"due {raw!r}", TC, {"title": "t", "due_datetime": raw}, ("due_datetime", "invalid_format"))
err("due is a number", TC, {"title": "t", "due_datetime": 1893456000}, ("due_datetime", "invalid_format"))
# --- recurrence
for p in ["daily", "weekly", "monthly", "DAILY", "Weekly"]:
    ok(f"pattern {p}", TC, {"title": "t", "due_datetime": DUE, "recurrence_pattern": p},
       task(title="t", due_datetime=DUE, recurrence_pattern=p.lower()))
ok("pattern none without due", TC, {"title": "t", "recurrence_pattern": "none"}, task(title="t"))
for p in ["yearly", "hourly", "", "every day"]:
    err(f"pattern {p!r}", TC, {"title": "t", "due_datetime": DUE, "recurrence_pattern": p},
        ("recurrence_pattern", "invalid_value"))
for p in ["daily", "weekly", "monthly"]:
    err(f"{p} without due", TC, {"title": "t", "recurrence_pattern": p}, ("due_datetime", "required"))
ok("rrule weekly", TC, {"title": "t", "due_datetime": DUE, "rrule": "FREQ=WEEKLY;BYDAY=MO,WE"},
   task(title="t", due_datetime=DUE, rrule="FREQ=WEEKLY;BYDAY=MO,WE"))
ok("rrule with RRULE: prefix", TC, {"title": "t", "due_datetime": DUE, "rrule": "RRULE:FREQ=DAILY"},
   task(title="t", due_datetime=DUE, rrule="FREQ=DAILY"))
ok("rrule lower case", TC, {"title": "t", "due_datetime": DUE, "rrule": "freq=daily;count=3"},
   task(title="t", due_datetime=DUE, rrule="FREQ=DAILY;COUNT=3"))
ok("rrule with pattern none", TC, {"title": "t", "due_datetime": DUE, "rrule": "FREQ=MONTHLY;BYMONTHDAY=-1",
                                    "recurrence_pattern": "none"},
   task(title="t", due_datetime=DUE, rrule="FREQ=MONTHLY;BYMONTHDAY=-1"))
for raw in ["FREQ=SOMETIMES", "BYDAY=MO", "FREQ=WEEKLY;BYDAY=XX", "hello",
            "DTSTART:20300101T000000Z\nRRULE:FREQ=DAILY", "FREQ=DAILY;DTSTART=20300101"]:
    err(f"rrule {raw!r}", TC, {"title": "t", "due_datetime": DUE, "rrule": raw}, ("rrule", "invalid_format"))
err("rrule interval 0", TC, {"title": "t", "due_datetime": DUE, "rrule": "FREQ=DAILY;INTERVAL=0"}, ("rrule", "out_of_range"))
err("rrule empty", TC, {"title": "t", "due_datetime": DUE, "rrule": ""}, ("rrule", "required"))
err("rrule and pattern", TC, {"title": "t", "due_datetime": DUE, "rrule": "FREQ=DAILY", "recurrence_pattern": "weekly"},
    ("rrule", "inconsistent"))
err("rrule without due", TC, {"title": "t", "rrule": "FREQ=DAILY"}, ("due_datetime", "required"))
ok("end date after due", TC, {"title": "t", "due_datetime": DUE, "recurrence_pattern": "daily",
                              "recurrence_end_date": "2030-06-30T23:59:59Z"},
   task(title="t", due_datetime=DUE, recurrence_pattern="daily", recurrence_end_date="2030-06-30T23:59:59Z"))
ok("end date equal to due", TC, {"title": "t", "due_datetime": DUE, "recurrence_pattern": "daily",
                                 "recurrence_end_date": DUE},
   task(title="t", due_datetime=DUE, recurrence_pattern="daily", recurrence_end_date=DUE))
err("end date before due", TC, {"title": "t", "due_datetime": DUE, "recurrence_pattern": "daily",
                                "recurrence_end_date": "2030-01-02T09:59:59Z"}, ("recurrence_end_date", "out_of_range"))
err("end date malformed", TC, {"title": "t", "due_datetime": DUE, "recurrence_pattern": "daily",
                               "recurrence_end_date": "June"}, ("recurrence_end_date", "invalid_format"))
# --- rrule cost limits (issue 14): at most 96 times a day (BYHOUR x BYMINUTE x BYSECOND, an HOURLY rule
# counting every INTERVAL-th hour) and 62 distinct values per BYDAY/BYMONTHDAY/BYYEARDAY/BYWEEKNO/BYSETPOS
QUARTERS = "BYHOUR=" + ",".join(str(h) for h in range(24)) + ";BYMINUTE=0,15,30,45"
ATTACK = ("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + ",".join(str(i) for i in range(24))
          + ";BYMINUTE=" + ",".join(str(i) for i in range(60)) + ";BYSECOND=" + ",".join(str(i) for i in range(60)))
assert len(ATTACK) == 465
err("rrule every second of the year (the attack)", TC, {"title": "t", "due_datetime": DUE, "rrule": ATTACK},
    ("rrule", "too_complex"))
err("rrule 120 times a day", TC, {"title": "t", "due_datetime": DUE, "rrule": "FREQ=HOURLY;BYMINUTE=0,10,20,30,40"},
    ("rrule", "too_complex"))
err("rrule 63 BYSETPOS values", TC,
    {"title": "t", "due_datetime": DUE,
     "rrule": "FREQ=YEARLY;BYDAY=MO;BYSETPOS=" + ",".join(str(i) for i in list(range(1, 33)) + list(range(-31, 0)))},
    ("rrule", "too_complex"))
ok("rrule 96 times a day", TC, {"title": "t", "due_datetime": DUE, "rrule": "FREQ=DAILY;" + QUARTERS},
   task(title="t", due_datetime=DUE, rrule="FREQ=DAILY;" + QUARTERS))
ok("rrule every 2 hours at 8 minutes", TC,
   {"title": "t", "due_datetime": DUE, "rrule": "FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,7,15,22,30,37,45,52"},
   task(title="t", due_datetime=DUE, rrule="FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,7,15,22,30,37,45,52"))
# --- timezone
for z in ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC", "Pacific/Chatham"]:
    ok(f"timezone {z}", TC, {"title": "t", "timezone": z}, task(title="t", timezone=z))
for z in ["Mars/Olympus_Mons", "", "GMT+25", "Berlin"]:
    err(f"timezone {z!r}", TC, {"title": "t", "timezone": z}, ("timezone", "invalid_value"))
# --- tag_ids
ok("tag ids sorted and deduplicated", TC, {"title": "t", "tag_ids": [3, 1, 3, 2]}, task(title="t", tag_ids=[1, 2, 3]))
ok("tag ids empty", TC, {"title": "t", "tag_ids": []}, task(title="t"))
for bad in [[0], [-1], [1, 0]]:
    err(f"tag ids {bad}", TC, {"title": "t", "tag_ids": bad}, ("tag_ids", "invalid_value"))
err("tag ids as string", TC, {"title": "t", "tag_ids": "1,2"}, ("tag_ids", "invalid_format"))
# at most 50 tags per task (issue 14), counted after dropping duplicates
err("tag ids 51", TC, {"title": "t", "tag_ids": list(range(1, 52))}, ("tag_ids", "too_long"))
ok("tag ids 50, each twice", TC, {"title": "t", "tag_ids": list(range(50, 0, -1)) * 2},
   task(title="t", tag_ids=list(range(1, 51))))
err("tag id fractional", TC, {"title": "t", "tag_ids": [1.5]}, ("tag_ids[0]", "invalid_format"))
# --- unknown fields and body shape
for f in ["id", "user_id", "completed", "color", "reminder", "tags", "Title"]:
    err(f"unknown field {f}", TC, {"title": "t", f: 1}, (f, "unknown_field"))
err("two unknown fields", TC, {"title": "t", "a": 1, "b": 2}, ("a", "unknown_field"), ("b", "unknown_field"))
err("body is an array", TC, [], ("body", "invalid_format"))
err("body is a string", TC, "title", ("body", "invalid_format"))
err("body is null", TC, None, ("body", "invalid_format"))
# --- several errors at once, in field order
err("every field wrong", TC, {"title": "", "description": "d" * 4001, "due_datetime": "x", "priority": "P0",
                              "recurrence_pattern": "yearly", "recurrence_end_date": "y", "timezone": "Nowhere",
                              "tag_ids": [0]},
    ("title", "required"), ("description", "too_long"), ("due_datetime", "invalid_format"),
    ("priority", "invalid_value"), ("recurrence_pattern", "invalid_value"),
    ("recurrence_end_date", "invalid_format"), ("timezone", "invalid_value"), ("tag_ids", "invalid_value"))

# --- task_update
TU = "task_update"
ok("empty update", TU, {}, {})
ok("update title trimmed", TU, {"title": " New "}, {"title": "New"})
err("update title null", TU, {"title": None}, ("title", "required"))
err("update title empty", TU, {"title": ""}, ("title", "required"))
ok("update description null clears", TU, {"description": None}, {"description": None})
ok("update due null clears", TU, {"due_datetime": None}, {"due_datetime": None})
ok("update due in the past is allowed", TU, {"due_datetime": "2020-01-01T00:00:00+01:00"},
   {"due_datetime": "2019-12-31T23:00:00Z"})
ok("update priority null resets", TU, {"priority": None}, {"priority": "Medium"})
ok("update priority lower case", TU, {"priority": "low"}, {"priority": "Low"})
ok("update completed", TU, {"completed": True}, {"completed": True})
err("update completed null", TU, {"completed": None}, ("completed", "required"))
err("update completed string", TU, {"completed": "yes"}, ("completed", "invalid_format"))
ok("update rrule null", TU, {"rrule": None}, {"rrule": None})
ok("update pattern null means none", TU, {"recurrence_pattern": None}, {"recurrence_pattern": "none"})
ok("update pattern weekly", TU, {"recurrence_pattern": "weekly"}, {"recurrence_pattern": "weekly"})
err("update pattern and rrule", TU, {"recurrence_pattern": "weekly", "rrule": "FREQ=DAILY"}, ("rrule", "inconsistent"))
ok("update rrule with pattern none", TU, {"recurrence_pattern": "none", "rrule": "FREQ=DAILY"},
   {"recurrence_pattern": "none", "rrule": "FREQ=DAILY"})
ok("update tag ids null detaches all", TU, {"tag_ids": None}, {"tag_ids": []})
ok("update tag ids", TU, {"tag_ids": [5, 4]}, {"tag_ids": [4, 5]})
ok("update timezone null is UTC", TU, {"timezone": None}, {"timezone": "UTC"})
ok("update end date null clears", TU, {"recurrence_end_date": None}, {"recurrence_end_date": None})
err("update unknown field", TU, {"done": True}, ("done", "unknown_field"))
err("update bad zone", TU, {"timezone": "Europe/Atlantis"}, ("timezone", "invalid_value"))
err("update tag ids 51", TU, {"tag_ids": list(range(1, 52))}, ("tag_ids", "too_long"))
err("update rrule every second of the year", TU, {"rrule": ATTACK}, ("rrule", "too_complex"))

# --- tags
TG = "tag_create"
ok("tag default color", TG, {"name": "work"}, {"name": "work", "color": "#3B82F6"})
ok("tag name trimmed, color upper-cased", TG, {"name": " Home ", "color": "#10b981"}, {"name": "Home", "color": "#10B981"})
ok("tag 50 chars", TG, {"name": "n" * 50}, {"name": "n" * 50, "color": "#3B82F6"})
err("tag 51 chars", TG, {"name": "n" * 51}, ("name", "too_long"))
err("tag name missing", TG, {"color": "#FFFFFF"}, ("name", "required"))
err("tag name empty", TG, {"name": " "}, ("name", "required"))
for c in ["red", "#FFF", "FFFFFF", "#GGGGGG", "#1234567", "", "#12345"]:
    err(f"tag color {c!r}", TG, {"name": "x", "color": c}, ("color", "invalid_format"))
for c in ["#000000", "#ffffff", "#AbCdEf"]:
    ok(f"tag color {c}", TG, {"name": "x", "color": c}, {"name": "x", "color": c.upper()})
err("tag unknown field", TG, {"name": "x", "task_count": 1}, ("task_count", "unknown_field"))
TGU = "tag_update"
ok("tag update nothing", TGU, {}, {})
ok("tag update color null resets", TGU, {"color": None}, {"color": "#3B82F6"})
err("tag update name null", TGU, {"name": None}, ("name", "required"))
ok("tag update name", TGU, {"name": " Errands"}, {"name": "Errands"})

# --- reminders
R = "reminder"
ok("reminder default type", R, {"reminder_time": "2030-01-02T09:30:00Z"},
   {"reminder_time": "2030-01-02T09:30:00Z", "reminder_type": "due_date"})
ok("reminder custom with offset", R, {"reminder_time": "2030-01-02T10:30:00+01:00", "reminder_type": "custom"},
   {"reminder_time": "2030-01-02T09:30:00Z", "reminder_type": "custom"})
err("reminder type unknown", R, {"reminder_time": "2030-01-02T09:30:00Z", "reminder_type": "sometime"},
    ("reminder_type", "invalid_value"))
err("reminder time missing", R, {"reminder_type": "custom"}, ("reminder_time", "required"))
err("reminder time past", R, {"reminder_time": "2029-12-31T09:30:00Z"}, ("reminder_time", "in_past"))
err("reminder time malformed", R, {"reminder_time": "in an hour"}, ("reminder_time", "invalid_format"))
err("reminder unknown field", R, {"reminder_time": "2030-01-02T09:30:00Z", "minutes_before": 5},
    ("minutes_before", "unknown_field"))

print(json.dumps({
    "format": "Validation vectors. 'now' is the clock reading for every case. Each case: 'kind' "
              "(task_create|task_update|tag_create|tag_update|reminder), 'input' (the JSON body), and 'expected' "
              "either {'ok': normalized output} or {'errors': [{'field','code'}, ...] in order}. Instants in "
              "outputs are RFC 3339 UTC with 'Z'.",
    "now": NOW,
    "cases": cases,
}, ensure_ascii=False, indent=1))
