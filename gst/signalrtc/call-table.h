/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace signalrtc {

/* Who is on the hub, which calls a signalrtcbin holds, and what it does
 * when users come and go: whom it calls, whose calls it takes, and which
 * call in progress a user's new connection id belongs to. Pure: no
 * GStreamer, no I/O; the bin's hub thread owns it and does what it says.
 *
 * Calls are keyed by the remote user's hub connection id, which changes
 * when the hub restarts (or our connection to it is new): every call in
 * progress then becomes "from before", and the first user of the same name
 * to show up again takes it over (its new id re-keys the call) instead of
 * being called a second time. A call from before that nobody takes over
 * goes on as long as its media does. */
class CallTable
{
 public:
  struct Rules
  {
    /* The user to call once present (empty: nobody). */
    std::string call;
    /* Users whose calls are taken, and who may be called (empty: anyone). */
    std::vector<std::string> allowed_users;
    bool auto_answer = true;
    /* One call at a time (signalrtcsrc). */
    bool single_peer = false;
    /* Most calls at once (0: no limit). */
    unsigned max_peers = 0;
  };

  /* What to do about a user who is present. */
  struct Presence
  {
    /* Not in the roster before. */
    bool joined = false;
    /* A call from before is this user's: re-key it from that id. */
    std::optional<std::string> rekey_from;
    /* Call this user now (start_call () follows). */
    bool dial = false;
  };

  CallTable ();
  explicit CallTable (Rules rules);

  const Rules &rules () const { return rules_; }

  /* We have a new connection id on the hub: the roster is empty and every
   * call is from before. */
  void hub_connected ();
  /* NewUserArrived or UserSaidHello from @id named @name. */
  Presence user_present (const std::string &id, const std::string &name);
  /* UserDisconnect: FALSE if @id was not in the roster. */
  bool user_left (const std::string &id);
  /* The name @id has in the roster, else "". */
  std::string name_of (const std::string &id) const;
  bool present (const std::string &id) const;

  /* Why an offer from @name, with whom there is no call, is refused. */
  std::optional<std::string> refusal (const std::string &name) const;

  void start_call (const std::string &id, const std::string &name);
  bool has_call (const std::string &id) const;
  std::size_t calls () const { return calls_.size (); }
  /* The call with @id is over. Returns whom to call now, if anyone: the
   * `call` user at another connection, or one that max-peers or the
   * single-peer rule kept us from calling before. */
  std::optional<std::string> end_call (const std::string &id);
  /* The call is from before (not re-keyed since hub_connected ()). */
  bool from_before (const std::string &id) const;
  /* The ids of the calls from before, oldest first. */
  std::vector<std::string> calls_from_before () const;

 private:
  struct Call
  {
    std::string name;
    bool from_before = false;
    std::uint64_t order = 0; /* start order: oldest is re-keyed first */
  };

  bool allowed (const std::string &name) const;
  bool room_for_call () const;
  bool have_call_with (const std::string &name) const;
  bool should_dial (const std::string &id, const std::string &name) const;

  Rules rules_;
  std::map<std::string, std::string> roster_; /* connection id -> name */
  std::map<std::string, Call> calls_;         /* connection id -> call */
  std::uint64_t next_order_ = 0;
};

}  // namespace signalrtc
