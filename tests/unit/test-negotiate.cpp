/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/negotiate.h"
#include "protocol/protocol-error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace signalrtc;

namespace {

void
expect_error (const GError *error, gint code)
{
  ASSERT_NE (error, nullptr);
  EXPECT_EQ (error->domain, SIGNALRTC_PROTOCOL_ERROR);
  EXPECT_EQ (error->code, code) << error->message;
  EXPECT_STRNE (error->message, "");
}

std::string
describe (const NegotiateResponse &r)
{
  switch (r.kind) {
  case NegotiateResponse::Kind::Error:
    return "error " + r.error;
  case NegotiateResponse::Kind::Redirect:
    return "redirect " + r.url + " token=" + r.access_token;
  case NegotiateResponse::Kind::Connection:
    break;
  }
  std::string s = "v" + std::to_string (r.negotiate_version)
                  + " id=" + r.connection_id + " token=" + r.connection_token
                  + " transports=";
  for (const auto &t : r.available_transports) {
    s += t.transport + "(";
    for (const auto &f : t.transfer_formats)
      s += f + ",";
    s += ")";
  }
  s += " ws-text=" + std::to_string (r.supports_websockets_text ())
       + " transport-id=" + r.transport_id ();
  return s;
}

const char *const kV1
    = "{\"negotiateVersion\":1,\"connectionId\":\"pub\",\"connectionToken\":"
      "\"secret\",\"availableTransports\":[{\"transport\":\"WebSockets\","
      "\"transferFormats\":[\"Text\",\"Binary\"]}]}";
const char *const kV0
    = "{\"connectionId\":\"pub\",\"availableTransports\":[{\"transport\":"
      "\"WebSockets\",\"transferFormats\":[\"Text\",\"Binary\"]}]}";

TEST (Negotiate, Parse)
{
  const std::vector<std::pair<const char *, const char *>> rows = {
      {kV1, "v1 id=pub token=secret transports=WebSockets(Text,Binary,) "
            "ws-text=1 transport-id=secret"},
      {kV0, "v0 id=pub token= transports=WebSockets(Text,Binary,) ws-text=1 "
            "transport-id=pub"},
      /* ASP.NET Core's full v1 reply, with every transport */
      {"{\"negotiateVersion\":1,\"connectionId\":\"a\",\"connectionToken\":"
       "\"b\",\"availableTransports\":[{\"transport\":\"WebSockets\","
       "\"transferFormats\":[\"Text\",\"Binary\"]},{\"transport\":"
       "\"ServerSentEvents\",\"transferFormats\":[\"Text\"]},{\"transport\":"
       "\"LongPolling\",\"transferFormats\":[\"Text\",\"Binary\"]}]}",
       "v1 id=a token=b transports=WebSockets(Text,Binary,)"
       "ServerSentEvents(Text,)LongPolling(Text,Binary,) ws-text=1 "
       "transport-id=b"},
      /* v0 with an explicit 0, and an ignored token */
      {"{\"negotiateVersion\":0,\"connectionId\":\"x\",\"connectionToken\":"
       "\"ignored\",\"availableTransports\":[]}",
       "v0 id=x token= transports= ws-text=0 transport-id=x"},
      {"{\"connectionId\":\"x\"}",
       "v0 id=x token= transports= ws-text=0 transport-id=x"},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transport\":"
       "\"WebSockets\",\"transferFormats\":[\"Binary\"]}]}",
       "v0 id=x token= transports=WebSockets(Binary,) ws-text=0 "
       "transport-id=x"},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transport\":"
       "\"LongPolling\",\"transferFormats\":[\"Text\"]}]}",
       "v0 id=x token= transports=LongPolling(Text,) ws-text=0 "
       "transport-id=x"},
      /* a later version keeps the v1 rules */
      {"{\"negotiateVersion\":2,\"connectionId\":\"x\",\"connectionToken\":"
       "\"t\"}",
       "v2 id=x token=t transports= ws-text=0 transport-id=t"},
      /* unknown fields are ignored */
      {"{\"negotiateVersion\":1,\"connectionId\":\"x\",\"connectionToken\":"
       "\"t\",\"useStatefulReconnect\":true,\"future\":{\"a\":[1]},"
       "\"availableTransports\":[{\"transport\":\"WebSockets\","
       "\"transferFormats\":[\"Text\"],\"extra\":1}]}",
       "v1 id=x token=t transports=WebSockets(Text,) ws-text=1 "
       "transport-id=t"},
      {"{\"error\":\"Negotiate failed\"}", "error Negotiate failed"},
      {"{\"error\":\"e\",\"connectionId\":\"x\"}", "error e"},
      {"{\"url\":\"https://other/hub\",\"accessToken\":\"tok\"}",
       "redirect https://other/hub token=tok"},
      {"{\"url\":\"https://other/hub\"}", "redirect https://other/hub token="},
      {"{\"url\":\"https://other/hub\",\"accessToken\":null}",
       "redirect https://other/hub token="},
      {"{\"error\":null,\"connectionId\":\"x\"}",
       "v0 id=x token= transports= ws-text=0 transport-id=x"},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto response = parse_negotiate_response (input, &error);
    ASSERT_TRUE (response) << error->message;
    EXPECT_EQ (describe (*response), expected);
  }
}

TEST (Negotiate, ParseMalformed)
{
  const std::vector<std::pair<const char *, gint>> rows = {
      {"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"<html>", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"connectionId\":", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"[]", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"\"x\"", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"availableTransports\":[]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":5}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":null}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"negotiateVersion\":1,\"connectionId\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"negotiateVersion\":1,\"connectionId\":\"x\",\"connectionToken\":1}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"negotiateVersion\":\"1\",\"connectionId\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"negotiateVersion\":1.5,\"connectionId\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"negotiateVersion\":-1,\"connectionId\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"negotiateVersion\":4294967296,\"connectionId\":\"x\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":{}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":[\"WebSockets\"]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transferFormats\":"
       "[]}]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transport\":1,"
       "\"transferFormats\":[]}]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transport\":"
       "\"WebSockets\"}]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transport\":"
       "\"WebSockets\",\"transferFormats\":\"Text\"}]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"connectionId\":\"x\",\"availableTransports\":[{\"transport\":"
       "\"WebSockets\",\"transferFormats\":[1]}]}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"error\":500}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"url\":[\"x\"]}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"url\":\"u\",\"accessToken\":5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
  };
  for (const auto &[input, code] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (parse_negotiate_response (input, &error));
    expect_error (error, code);
  }
}

TEST (Negotiate, Serialize)
{
  NegotiateResponse v1;
  v1.negotiate_version = 1;
  v1.connection_id = "pub";
  v1.connection_token = "secret";
  v1.available_transports = {{"WebSockets", {"Text", "Binary"}}};

  NegotiateResponse v0 = v1;
  v0.negotiate_version = 0;
  /* A v0 reply never carries a token, even one set by mistake. */
  EXPECT_EQ (serialize_negotiate_response (v0), kV0);
  v0.connection_token.clear ();

  NegotiateResponse none;
  none.connection_id = "c";

  NegotiateResponse redirect;
  redirect.kind = NegotiateResponse::Kind::Redirect;
  redirect.url = "https://x/hub";
  redirect.access_token = "t";
  NegotiateResponse redirect_no_token = redirect;
  redirect_no_token.access_token.clear ();

  NegotiateResponse error;
  error.kind = NegotiateResponse::Kind::Error;
  error.error = "Negotiate refused";

  const std::vector<std::pair<NegotiateResponse, const char *>> rows = {
      {v1, kV1},
      {v0, kV0},
      {none, "{\"connectionId\":\"c\",\"availableTransports\":[]}"},
      {redirect, "{\"url\":\"https://x/hub\",\"accessToken\":\"t\"}"},
      {redirect_no_token, "{\"url\":\"https://x/hub\"}"},
      {error, "{\"error\":\"Negotiate refused\"}"},
  };
  for (const auto &[response, expected] : rows) {
    SCOPED_TRACE (expected);
    std::string text = serialize_negotiate_response (response);
    EXPECT_EQ (text, expected);
    g_autoptr (GError) parse_error = nullptr;
    auto parsed = parse_negotiate_response (text, &parse_error);
    ASSERT_TRUE (parsed) << parse_error->message;
    EXPECT_EQ (describe (*parsed), describe (response));
  }
}

} // namespace
