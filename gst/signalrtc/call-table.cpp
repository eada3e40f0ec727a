/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "call-table.h"

#include <algorithm>

namespace signalrtc {

CallTable::CallTable () = default;

CallTable::CallTable (Rules rules) : rules_ (std::move (rules)) {}

void
CallTable::hub_connected ()
{
  roster_.clear ();
  for (auto &[id, call] : calls_)
    call.from_before = true;
}

CallTable::Presence
CallTable::user_present (const std::string &id, const std::string &name)
{
  Presence p;
  p.joined = !roster_.contains (id);
  roster_[id] = name;
  if (calls_.contains (id))
    return p;

  /* The oldest call from before with a user of that name is theirs. */
  auto best = calls_.end ();
  for (auto it = calls_.begin (); it != calls_.end (); ++it) {
    if (it->second.from_before && it->second.name == name
        && (best == calls_.end () || it->second.order < best->second.order))
      best = it;
  }
  if (best != calls_.end ()) {
    p.rekey_from = best->first;
    Call call = best->second;
    call.from_before = false;
    calls_.erase (best);
    calls_[id] = call;
    return p;
  }
  p.dial = should_dial (id, name);
  return p;
}

bool
CallTable::user_left (const std::string &id)
{
  return roster_.erase (id) > 0;
}

std::string
CallTable::name_of (const std::string &id) const
{
  auto it = roster_.find (id);
  if (it != roster_.end ())
    return it->second;
  auto call = calls_.find (id);
  return call != calls_.end () ? call->second.name : "";
}

bool
CallTable::present (const std::string &id) const
{
  return roster_.contains (id);
}

bool
CallTable::allowed (const std::string &name) const
{
  return rules_.allowed_users.empty ()
         || std::find (rules_.allowed_users.begin (),
                       rules_.allowed_users.end (), name)
                != rules_.allowed_users.end ();
}

bool
CallTable::room_for_call () const
{
  if (rules_.single_peer && !calls_.empty ())
    return false;
  return !rules_.max_peers || calls_.size () < rules_.max_peers;
}

bool
CallTable::have_call_with (const std::string &name) const
{
  return std::any_of (calls_.begin (), calls_.end (),
                      [&] (const auto &c) { return c.second.name == name; });
}

bool
CallTable::should_dial (const std::string &id, const std::string &name) const
{
  return !rules_.call.empty () && name == rules_.call && !calls_.contains (id)
         && !have_call_with (name) && allowed (name) && room_for_call ();
}

std::optional<std::string>
CallTable::refusal (const std::string &name) const
{
  if (!rules_.auto_answer)
    return "auto-answer is off";
  if (!allowed (name))
    return "not in allowed-users";
  if (rules_.single_peer && !calls_.empty ())
    return "already in a call";
  if (rules_.max_peers && calls_.size () >= rules_.max_peers)
    return "max-peers reached";
  return std::nullopt;
}

void
CallTable::start_call (const std::string &id, const std::string &name)
{
  calls_[id] = Call{name, false, next_order_++};
}

bool
CallTable::has_call (const std::string &id) const
{
  return calls_.contains (id);
}

bool
CallTable::from_before (const std::string &id) const
{
  auto it = calls_.find (id);
  return it != calls_.end () && it->second.from_before;
}

std::vector<std::string>
CallTable::calls_from_before () const
{
  std::vector<std::pair<std::uint64_t, std::string>> found;
  for (const auto &[id, call] : calls_)
    if (call.from_before)
      found.emplace_back (call.order, id);
  std::sort (found.begin (), found.end ());
  std::vector<std::string> ids;
  for (auto &[order, id] : found)
    ids.push_back (std::move (id));
  return ids;
}

std::optional<std::string>
CallTable::end_call (const std::string &id)
{
  if (!calls_.erase (id))
    return std::nullopt;
  /* Never the connection whose call just ended: a call that failed is not
   * made again and again. */
  for (const auto &[other, name] : roster_) {
    if (other != id && should_dial (other, name))
      return other;
  }
  return std::nullopt;
}

}  // namespace signalrtc
