/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <optional>
#include <string>
#include <string_view>

namespace signalrtc {

/* The seed hub's UserInfo, sent as a JSON-encoded *string* argument:
 * {"userName":"bob","connectionId":"abc"} (key order as the original). */
struct UserInfo
{
  std::string user_name;
  std::string connection_id;

  bool operator== (const UserInfo &) const = default;
};

std::string serialize_user_info (const UserInfo &info);
/* Both keys must be strings; unknown keys are ignored. */
std::optional<UserInfo> parse_user_info (std::string_view json,
                                         GError **error);

}  // namespace signalrtc
