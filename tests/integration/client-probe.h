/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "client/hub-client.h"
#include "hub-process.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace signalrtc::test {

/* Options with short timers, so that tests finish quickly. */
inline HubClient::Options
quick_options (const std::string &url, GMainContext *context)
{
  HubClient::Options options;
  options.url = url;
  options.context = context;
  options.keep_alive_interval_ms = 1000;
  options.server_timeout_ms = 5000;
  options.handshake_timeout_ms = 2000;
  options.reconnect_initial_delay_ms = 50;
  options.reconnect_max_delay_ms = 400;
  return options;
}

/* What one invoke () got. */
struct InvokeResult
{
  bool done = false;
  int calls = 0;
  JsonValue result;
  bool failed = false;
  GQuark domain = 0;
  int code = -1;
  std::string message;

  bool ok () const { return done && !failed; }
  bool failed_with (SignalrtcClientError c) const
  {
    return done && failed && domain == SIGNALRTC_CLIENT_ERROR && code == c;
  }
};

/* A HubClient that records everything that happens to it. */
class ClientProbe
{
 public:
  struct Disconnect
  {
    bool has_error = false;
    GQuark domain = 0;
    int code = -1;
    std::string message;
    bool will_reconnect = false;
  };

  explicit ClientProbe (HubClient::Options options,
                        std::vector<std::string> events = {})
      : client (std::make_unique<HubClient> (std::move (options)))
  {
    client->set_connected_handler (
        [this] (const std::string &id, bool reconnected) {
          connects++;
          ids.push_back (id);
          last_reconnected = reconnected;
        });
    client->set_disconnected_handler (
        [this] (const GError *error, bool will_reconnect) {
          Disconnect d;
          d.will_reconnect = will_reconnect;
          if (error != nullptr) {
            d.has_error = true;
            d.domain = error->domain;
            d.code = error->code;
            d.message = error->message;
          }
          disconnects.push_back (d);
        });
    client->set_reconnecting_handler ([this] (guint attempt, guint delay) {
      reconnects.emplace_back (attempt, delay);
    });
    for (const auto &event : events)
      listen (event);
  }

  void listen (const std::string &event)
  {
    client->on (event, [this, event] (const std::vector<JsonValue> &args) {
      received[event].push_back (args);
    });
  }

  std::vector<std::vector<JsonValue>> &got (const std::string &event)
  {
    return received[event];
  }

  std::shared_ptr<InvokeResult> invoke (std::string target,
                                        std::vector<JsonValue> args)
  {
    auto result = std::make_shared<InvokeResult> ();
    client->invoke (std::move (target), std::move (args),
                    [result] (const JsonValue &value, const GError *error) {
                      result->calls++;
                      result->done = true;
                      result->result = value;
                      if (error != nullptr) {
                        result->failed = true;
                        result->domain = error->domain;
                        result->code = error->code;
                        result->message = error->message;
                      }
                    });
    return result;
  }

  bool connected () const
  {
    return client->state () == HubClient::State::Connected;
  }
  const std::string &id () const { return client->connection_id (); }

  std::unique_ptr<HubClient> client;
  std::map<std::string, std::vector<std::vector<JsonValue>>> received;
  int connects = 0;
  bool last_reconnected = false;
  std::vector<std::string> ids;
  std::vector<Disconnect> disconnects;
  std::vector<std::pair<guint, guint>> reconnects;
};

} // namespace signalrtc::test
