/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "hub-state.h"

#include "protocol/user-info.h"

#include <glib.h>

#include <array>
#include <functional>
#include <string_view>

namespace signalrtc {

namespace {

/* What a hub method hands back: deliveries, or an error for the caller. */
struct MethodResult
{
  std::vector<HubDelivery> deliveries;
  std::optional<std::string> error;
};

/* @users: connection id -> user name, as HubState keeps it. */
using MethodFn = MethodResult (*) (std::map<std::string, std::string> &users,
                                   const std::string &caller,
                                   const std::vector<std::string> &args);

struct HubMethod
{
  const char *name;
  gsize arity;
  MethodFn fn;
};

HubDelivery
invocation_for (const std::string &connection_id, const char *target,
                std::vector<JsonValue> arguments)
{
  return {connection_id, make_invocation (target, std::move (arguments))};
}

MethodResult
new_user (std::map<std::string, std::string> &users, const std::string &caller,
          const std::vector<std::string> &args)
{
  users[caller] = args[0];
  std::string info = serialize_user_info ({args[0], caller});
  MethodResult result;
  for (const auto &[id, name] : users) {
    if (id != caller)
      result.deliveries.push_back (invocation_for (
          id, "NewUserArrived", {JsonValue::from_string (info)}));
  }
  return result;
}

MethodResult
hello_user (std::map<std::string, std::string> &users,
            const std::string &caller, const std::vector<std::string> &args)
{
  const std::string &target = args[1];
  if (!users.contains (target))
    return {{}, "HelloUser: no connection '" + target + "' on this hub"};
  users[caller] = args[0];
  std::string info = serialize_user_info ({args[0], caller});
  return {{invocation_for (target, "UserSaidHello",
                           {JsonValue::from_string (info)})},
          std::nullopt};
}

MethodResult
send_signal (std::map<std::string, std::string> &users,
             const std::string &caller, const std::vector<std::string> &args)
{
  const std::string &target = args[1];
  if (!users.contains (target))
    return {{}, "SendSignal: no connection '" + target + "' on this hub"};
  return {{invocation_for (target, "SendSignal",
                           {JsonValue::from_string (caller),
                            JsonValue::from_string (args[0])})},
          std::nullopt};
}

constexpr std::array<HubMethod, 3> kMethods = {{
    {"NewUser", 1, new_user},
    {"HelloUser", 2, hello_user},
    {"SendSignal", 2, send_signal},
}};

const HubMethod *
find_method (const std::string &target)
{
  for (const auto &method : kMethods) {
    if (g_ascii_strcasecmp (method.name, target.c_str ()) == 0)
      return &method;
  }
  return nullptr;
}

/* Binds the JSON arguments to the method's string parameters. */
std::optional<std::string>
bind_arguments (const HubMethod &method, const HubMessage &invocation,
                std::vector<std::string> &args)
{
  if (invocation.arguments.size () != method.arity) {
    return std::string ("Invocation of '") + method.name + "' provides "
           + std::to_string (invocation.arguments.size ())
           + " argument(s) but the method takes "
           + std::to_string (method.arity);
  }
  for (gsize i = 0; i < method.arity; i++) {
    auto value = invocation.string_argument (i);
    if (!value) {
      return std::string ("Invocation of '") + method.name + "': argument "
             + std::to_string (i + 1) + " must be a string";
    }
    args.push_back (std::move (*value));
  }
  return std::nullopt;
}

}  // namespace

void
HubState::add_connection (const std::string &connection_id)
{
  users_.try_emplace (connection_id);
}

std::vector<HubDelivery>
HubState::remove_connection (const std::string &connection_id)
{
  std::vector<HubDelivery> deliveries;
  if (users_.erase (connection_id) == 0)
    return deliveries;
  for (const auto &[id, name] : users_) {
    deliveries.push_back (invocation_for (
        id, "UserDisconnect", {JsonValue::from_string (connection_id)}));
  }
  return deliveries;
}

std::vector<HubDelivery>
HubState::handle_invocation (const std::string &caller,
                             const HubMessage &invocation, bool *failed)
{
  MethodResult result;
  const HubMethod *method = find_method (invocation.target);
  std::vector<std::string> args;

  if (!users_.contains (caller))
    result.error = "The calling connection is not on this hub";
  else if (!method)
    result.error = "Unknown hub method '" + invocation.target + "'";
  else if (auto error = bind_arguments (*method, invocation, args))
    result.error = std::move (error);
  else
    result = method->fn (users_, caller, args);

  if (failed)
    *failed = result.error.has_value ();
  if (invocation.invocation_id) {
    result.deliveries.push_back (
        {caller, result.error ? make_completion_error (
                     *invocation.invocation_id, *result.error)
                              : make_completion (*invocation.invocation_id)});
  }
  return std::move (result.deliveries);
}

bool
HubState::has_connection (const std::string &connection_id) const
{
  return users_.contains (connection_id);
}

std::optional<std::string>
HubState::user_name (const std::string &connection_id) const
{
  auto it = users_.find (connection_id);
  if (it == users_.end () || it->second.empty ())
    return std::nullopt;
  return it->second;
}

}  // namespace signalrtc
