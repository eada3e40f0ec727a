/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "protocol/signalr-messages.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace signalrtc {

/* One message for one connection. */
struct HubDelivery
{
  std::string connection_id;
  HubMessage message;
};

/* The SignalRtc hub of the original ASP.NET Core app, as a pure state
 * machine: connections come and go, invocations come in, and what must be
 * delivered to whom comes out. No I/O, no clock.
 *
 *   NewUser(username)                  NewUserArrived(userInfoJson) to the others
 *   HelloUser(userName, connectionId)  UserSaidHello(userInfoJson) to that one
 *   SendSignal(signal, connectionId)   SendSignal(callerId, signal) to that one
 *   (connection removed)               UserDisconnect(connectionId) to everyone
 *
 * Method names match case-insensitively. A blocking invocation (with an
 * invocationId) always gets a Completion, after the messages it caused; bad
 * arguments, an unknown method or an unknown target connection make that
 * Completion an error. A non-blocking one that fails is dropped. */
class HubState
{
 public:
  /* A connection that finished its handshake. */
  void add_connection (const std::string &connection_id);
  /* UserDisconnect(@connection_id) for everyone left; nothing for an id
   * that was never added. */
  std::vector<HubDelivery> remove_connection (const std::string &connection_id);
  /* @invocation must be of type Invocation; @caller a present connection.
   * @failed (optional) tells whether the invocation was refused. */
  std::vector<HubDelivery> handle_invocation (const std::string &caller,
                                              const HubMessage &invocation,
                                              bool *failed = nullptr);

  bool has_connection (const std::string &connection_id) const;
  gsize connection_count () const { return users_.size (); }
  /* The name given by the connection's last NewUser or HelloUser. */
  std::optional<std::string> user_name (const std::string &connection_id) const;

 private:
  /* connection id -> user name ("" until the connection names itself). */
  std::map<std::string, std::string> users_;
};

}  // namespace signalrtc
