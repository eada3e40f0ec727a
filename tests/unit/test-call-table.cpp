/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whom a signalrtcbin calls, whose calls it takes, and which call a user's
 * new connection id (after a hub restart) belongs to. Each case is a
 * script of events with what the table must answer to each.
 */
#include "call-table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using signalrtc::CallTable;

/* One event and what must come of it. */
struct Step
{
  enum Kind
  {
    HubConnected, /* our new connection id */
    Present,      /* NewUserArrived / UserSaidHello: id, name */
    Left,         /* UserDisconnect: id */
    Start,        /* the bin started a call with id, name */
    End,          /* the call with id ended */
    Offer,        /* an offer from name, with whom there is no call */
  } kind;
  std::string id;
  std::string name;
  /* Present: dial?, re-keyed from ("" none). End: whom to dial ("" none).
   * Offer: the refusal ("" taken). */
  bool dial = false;
  std::string expect = "";
};

struct Case
{
  const char *what;
  CallTable::Rules rules;
  std::vector<Step> steps;
  /* Calls held at the end. */
  std::size_t calls;
  /* Of those, the calls from before whose users have not come back, oldest
   * first (what rejoin-timeout ends). */
  std::vector<std::string> from_before = {};
};

CallTable::Rules
calling (const std::string &who, unsigned max_peers = 0,
         bool single_peer = false, std::vector<std::string> allowed = {})
{
  CallTable::Rules r;
  r.call = who;
  r.max_peers = max_peers;
  r.single_peer = single_peer;
  r.allowed_users = std::move (allowed);
  return r;
}

const Case kCases[] = {
    {"calls the call= user once present",
     calling ("cam"),
     {{Step::Present, "c1", "other"}, {Step::Present, "c2", "cam", true}},
     0},
    {"one call per user: a second connection of the same name is not called",
     calling ("cam"),
     {{Step::Present, "c1", "cam", true},
      {Step::Start, "c1", "cam"},
      {Step::Present, "c2", "cam", false},
      {Step::Present, "c3", "cam", false}},
     1},
    {"an announcement again of a user in a call dials nothing",
     calling ("cam"),
     {{Step::Present, "c1", "cam", true},
      {Step::Start, "c1", "cam"},
      {Step::Present, "c1", "cam", false}},
     1},
    {"max-peers holds for outgoing calls",
     calling ("cam", 1),
     {{Step::Start, "x", "caller"}, {Step::Present, "c1", "cam", false}},
     1},
    {"the single-peer rule holds for outgoing calls",
     calling ("cam", 0, true),
     {{Step::Start, "x", "caller"}, {Step::Present, "c1", "cam", false}},
     1},
    {"allowed-users holds for outgoing calls",
     calling ("cam", 0, false, {"alice"}),
     {{Step::Present, "c1", "cam", false}},
     0},
    {"a call that ends frees the slot for the call= user",
     calling ("cam", 1),
     {{Step::Start, "x", "caller"},
      {Step::Present, "c1", "cam", false},
      {Step::End, "x", "", false, "c1"}},
     0},
    {"the call= user's call ends: its other connection is called",
     calling ("cam"),
     {{Step::Present, "c1", "cam", true},
      {Step::Start, "c1", "cam"},
      {Step::Present, "c2", "cam", false},
      {Step::Left, "c1"},
      {Step::End, "c1", "", false, "c2"}},
     0},
    {"a failed call is not made again to the same connection",
     calling ("cam"),
     {{Step::Present, "c1", "cam", true},
      {Step::Start, "c1", "cam"},
      {Step::End, "c1", "", false, ""}},
     0},
    {"hub restart: the user's new id takes over the call, nobody is dialled",
     calling ("cam"),
     {{Step::Present, "c1", "cam", true},
      {Step::Start, "c1", "cam"},
      {Step::HubConnected},
      {Step::Present, "n1", "cam", false, "c1"},
      {Step::Present, "n1", "cam", false}},
     1},
    {"hub restart: users who do not come back are left from before, oldest "
     "first",
     {},
     {{Step::Start, "c3", "carol"},
      {Step::Start, "c1", "alice"},
      {Step::Start, "c2", "bob"},
      {Step::HubConnected},
      {Step::Present, "n1", "alice", false, "c1"}},
     3,
     {"c3", "c2"}},
    {"hub restart twice: a call re-keyed in between is from before again",
     {},
     {{Step::Start, "c1", "alice"},
      {Step::HubConnected},
      {Step::Present, "n1", "alice", false, "c1"},
      {Step::HubConnected}},
     1,
     {"n1"}},
    {"a call from before that ends is not left over",
     {},
     {{Step::Start, "c1", "alice"},
      {Step::HubConnected},
      {Step::End, "c1", "", false, ""}},
     0},
    {"hub restart: a caller's new id takes over the call it made",
     {},
     {{Step::Start, "c1", "alice"},
      {Step::HubConnected},
      {Step::Present, "n2", "bob", false},
      {Step::Present, "n1", "alice", false, "c1"}},
     1},
    {"hub restart: two calls with one name, each new id takes one, oldest "
     "first",
     {},
     {{Step::Start, "b", "twin"},
      {Step::Start, "a", "twin"},
      {Step::HubConnected},
      {Step::Present, "n1", "twin", false, "b"},
      {Step::Present, "n2", "twin", false, "a"},
      {Step::Present, "n3", "twin", false}},
     2},
    {"a call started after the restart is not taken over",
     calling ("cam"),
     {{Step::HubConnected},
      {Step::Present, "n1", "cam", true},
      {Step::Start, "n1", "cam"},
      {Step::Present, "n2", "cam", false}},
     1},
    {"a call from before still counts for max-peers",
     calling ("cam", 1),
     {{Step::Start, "x", "caller"},
      {Step::HubConnected},
      {Step::Present, "n1", "cam", false},
      {Step::Offer, "", "eve", false, "max-peers reached"}},
     1,
     {"x"}},
    {"incoming calls: the rules, in order",
     calling ("", 2, false, {"alice", "bob"}),
     {{Step::Offer, "", "eve", false, "not in allowed-users"},
      {Step::Offer, "", "alice", false, ""},
      {Step::Start, "a", "alice"},
      {Step::Start, "b", "bob"},
      {Step::Offer, "", "alice", false, "max-peers reached"}},
     2},
    {"single peer: a second caller is refused",
     calling ("", 0, true),
     {{Step::Start, "a", "alice"},
      {Step::Offer, "", "bob", false, "already in a call"}},
     1},
};

TEST (CallTable, Scripts)
{
  for (const Case &c : kCases) {
    SCOPED_TRACE (c.what);
    CallTable table (c.rules);
    int n = 0;
    for (const Step &s : c.steps) {
      SCOPED_TRACE ("step " + std::to_string (++n));
      switch (s.kind) {
      case Step::HubConnected:
        table.hub_connected ();
        break;
      case Step::Present: {
        auto p = table.user_present (s.id, s.name);
        EXPECT_EQ (p.dial, s.dial);
        EXPECT_EQ (p.rekey_from.value_or (""), s.expect);
        break;
      }
      case Step::Left:
        EXPECT_TRUE (table.user_left (s.id));
        break;
      case Step::Start:
        table.start_call (s.id, s.name);
        break;
      case Step::End:
        EXPECT_EQ (table.end_call (s.id).value_or (""), s.expect);
        break;
      case Step::Offer:
        EXPECT_EQ (table.refusal (s.name).value_or (""), s.expect);
        break;
      }
    }
    EXPECT_EQ (table.calls (), c.calls);
    EXPECT_EQ (table.calls_from_before (), c.from_before);
  }
}

TEST (CallTable, AutoAnswerOffRefusesEveryone)
{
  CallTable::Rules r;
  r.auto_answer = false;
  CallTable table (r);
  EXPECT_EQ (table.refusal ("alice").value_or (""), "auto-answer is off");
}

TEST (CallTable, RosterAndNames)
{
  CallTable table;
  EXPECT_TRUE (table.user_present ("a", "alice").joined);
  EXPECT_FALSE (table.user_present ("a", "alice").joined);
  EXPECT_EQ (table.name_of ("a"), "alice");
  table.start_call ("a", "alice");
  table.hub_connected ();
  /* Out of the roster, but its call still knows the name. */
  EXPECT_FALSE (table.present ("a"));
  EXPECT_EQ (table.name_of ("a"), "alice");
  EXPECT_TRUE (table.from_before ("a"));
  EXPECT_FALSE (table.user_left ("a"));
  EXPECT_EQ (table.name_of ("zz"), "");
  EXPECT_FALSE (table.end_call ("zz"));
  table.user_present ("b", "alice");
  EXPECT_FALSE (table.has_call ("a"));
  EXPECT_TRUE (table.has_call ("b"));
  EXPECT_FALSE (table.from_before ("b"));
}

}  // namespace
