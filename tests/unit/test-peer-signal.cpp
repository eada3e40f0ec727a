/* signalrtc
 * Copyright (C) 2026 signalrtc authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/peer-signal.h"
#include "protocol/protocol-error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace signalrtc;

namespace {

std::string
describe (const PeerSignal &s)
{
  std::string out = peer_signal_type_name (s.type);
  out += s.has_type ? "" : " (untyped)";
  switch (s.type) {
  case PeerSignal::Type::Offer:
  case PeerSignal::Type::Answer:
    out += " sdp=" + s.sdp;
    break;
  case PeerSignal::Type::Candidate:
    out += " candidate=" + s.candidate;
    out += " index="
           + (s.sdp_mline_index ? std::to_string (*s.sdp_mline_index) : "-");
    out += " mid=" + (s.sdp_mid ? *s.sdp_mid : "-");
    break;
  case PeerSignal::Type::Renegotiate:
    break;
  case PeerSignal::Type::TransceiverRequest:
    out += " kind=" + s.kind + " init=" + s.init_json;
    break;
  }
  return out;
}

const char *const kCand = "candidate:842163049 1 udp 1677729535 192.0.2.1 "
                          "54321 typ srflx raddr 0.0.0.0 rport 0 generation 0";

TEST (PeerSignal, Parse)
{
  const std::string cand = kCand;
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 "
       "127.0.0.1\\r\\n\"}",
       "offer sdp=v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"},
      {"{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}", "answer sdp=v=0\r\n"},
      {"{\"sdp\":\"v=0\",\"type\":\"answer\"}", "answer sdp=v=0"},
      {"{\"type\":\"offer\",\"sdp\":\"\"}", "offer sdp="},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + cand
           + "\",\"sdpMLineIndex\":0,\"sdpMid\":\"0\"}}",
       "candidate candidate=" + cand + " index=0 mid=0"},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":2,\"sdpMid\":\"video\",\"usernameFragment\":\"u\"}}",
       "candidate candidate=c index=2 mid=video"},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\"}}",
       "candidate candidate=c index=- mid=-"},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":null,\"sdpMid\":null}}",
       "candidate candidate=c index=- mid=-"},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\","
       "\"sdpMLineIndex\":4294967295,\"sdpMid\":\"\"}}",
       "candidate candidate= index=4294967295 mid="},
      {"{\"type\":\"renegotiate\",\"renegotiate\":true}", "renegotiate"},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"audio\",\"init\":{\"direction\":\"sendrecv\"}}}",
       "transceiverRequest kind=audio init={\"direction\":\"sendrecv\"}"},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"video\"}}",
       "transceiverRequest kind=video init={}"},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"video\",\"init\":null}}",
       "transceiverRequest kind=video init={}"},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"video\",\"init\":{\"sendEncodings\":[{\"rid\":\"h\"},{\"rid\":"
       "\"l\",\"scaleResolutionDownBy\":2.0}]}}}",
       "transceiverRequest kind=video init={\"sendEncodings\":[{\"rid\":\"h\"},"
       "{\"rid\":\"l\",\"scaleResolutionDownBy\":2.0}]}"},
      /* unknown keys are ignored */
      {"{\"type\":\"offer\",\"sdp\":\"s\",\"extra\":[1,2]}", "offer sdp=s"},
      /* simple-peer before 9.9.3: no "type" */
      {"{\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":1,\"sdpMid\":"
       "\"1\"}}",
       "candidate (untyped) candidate=c index=1 mid=1"},
      {"{\"renegotiate\":true}", "renegotiate (untyped)"},
      {"{\"transceiverRequest\":{\"kind\":\"audio\",\"init\":{}}}",
       "transceiverRequest (untyped) kind=audio init={}"},
      {"{\"transceiverRequest\":{\"kind\":\"audio\"}}",
       "transceiverRequest (untyped) kind=audio init={}"},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    auto signal = parse_peer_signal (input, &error);
    ASSERT_TRUE (signal) << error->message;
    EXPECT_EQ (describe (*signal), expected);
  }
}

TEST (PeerSignal, ParseMalformed)
{
  const std::vector<std::pair<const char *, gint>> rows = {
      /* not JSON, or not an object */
      {"", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"offer", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"{\"type\":\"offer\",", SIGNALRTC_PROTOCOL_ERROR_INVALID_JSON},
      {"[]", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"\"{\\\"type\\\":\\\"offer\\\"}\"",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"null", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"42", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* type */
      {"{\"type\":1,\"sdp\":\"s\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":null,\"sdp\":\"s\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"pranswer\",\"sdp\":\"s\"}",
       SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":\"rollback\"}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":\"Offer\",\"sdp\":\"s\"}",
       SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      {"{\"type\":\"\"}", SIGNALRTC_PROTOCOL_ERROR_UNKNOWN_TYPE},
      /* offer, answer */
      {"{\"type\":\"offer\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"offer\",\"sdp\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"answer\",\"sdp\":5}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"answer\",\"sdp\":{\"sdp\":\"v=0\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* candidate */
      {"{\"type\":\"candidate\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":\"candidate:1\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":null}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":1}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":\"0\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":0.5}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":-1}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":4294967296}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMid\":0}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* renegotiate */
      {"{\"type\":\"renegotiate\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"renegotiate\",\"renegotiate\":false}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"renegotiate\",\"renegotiate\":\"true\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"renegotiate\":false}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"renegotiate\":1}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* transceiverRequest */
      {"{\"type\":\"transceiverRequest\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":\"audio\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"data\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"Audio\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":1}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"audio\",\"init\":[]}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"audio\",\"init\":\"{}\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"transceiverRequest\":{\"kind\":\"screen\"}}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      /* no type and no known key */
      {"{}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"foo\":1}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"sdp\":\"v=0\"}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"candidate\":\"candidate:1\"}",
       SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
      {"{\"candidate\":null}", SIGNALRTC_PROTOCOL_ERROR_INVALID_MESSAGE},
  };
  for (const auto &[input, code] : rows) {
    SCOPED_TRACE (input);
    g_autoptr (GError) error = nullptr;
    EXPECT_FALSE (parse_peer_signal (input, &error));
    ASSERT_NE (error, nullptr);
    EXPECT_EQ (error->domain, SIGNALRTC_PROTOCOL_ERROR);
    EXPECT_EQ (error->code, code) << error->message;
    EXPECT_STRNE (error->message, "");
  }
}

PeerSignal
make (PeerSignal::Type type)
{
  PeerSignal s;
  s.type = type;
  return s;
}

TEST (PeerSignal, Serialize)
{
  PeerSignal offer = make (PeerSignal::Type::Offer);
  offer.sdp = "v=0\r\n";
  PeerSignal answer = make (PeerSignal::Type::Answer);
  answer.sdp = "v=0\r\na=group:BUNDLE 0\r\n";
  answer.has_type = false; /* always written with "type" */

  PeerSignal candidate = make (PeerSignal::Type::Candidate);
  candidate.candidate = kCand;
  candidate.sdp_mline_index = 0;
  candidate.sdp_mid = "0";
  PeerSignal bare_candidate = make (PeerSignal::Type::Candidate);
  bare_candidate.candidate = "candidate:1 1 udp 1 127.0.0.1 9 typ host";
  PeerSignal index_only = bare_candidate;
  index_only.sdp_mline_index = 1;

  PeerSignal transceiver = make (PeerSignal::Type::TransceiverRequest);
  transceiver.kind = "audio";
  PeerSignal transceiver_init = transceiver;
  transceiver_init.kind = "video";
  transceiver_init.init_json = " { \"direction\" : \"recvonly\" } ";
  PeerSignal transceiver_bad_init = transceiver;
  transceiver_bad_init.init_json = "[1";

  const std::vector<std::pair<PeerSignal, std::string>> rows = {
      {offer, "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}"},
      {answer,
       "{\"type\":\"answer\",\"sdp\":\"v=0\\r\\na=group:BUNDLE 0\\r\\n\"}"},
      {candidate, std::string ("{\"type\":\"candidate\",\"candidate\":{"
                               "\"candidate\":\"")
                      + kCand + "\",\"sdpMLineIndex\":0,\"sdpMid\":\"0\"}}"},
      {bare_candidate,
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:1 1 "
       "udp 1 127.0.0.1 9 typ host\"}}"},
      {index_only,
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:1 1 "
       "udp 1 127.0.0.1 9 typ host\",\"sdpMLineIndex\":1}}"},
      {make (PeerSignal::Type::Renegotiate),
       "{\"type\":\"renegotiate\",\"renegotiate\":true}"},
      {transceiver,
       "{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"audio\",\"init\":{}}}"},
      {transceiver_init,
       "{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"video\",\"init\":{\"direction\":\"recvonly\"}}}"},
      {transceiver_bad_init,
       "{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"audio\",\"init\":{}}}"},
  };
  for (const auto &[signal, expected] : rows) {
    SCOPED_TRACE (expected);
    std::string text = serialize_peer_signal (signal);
    EXPECT_EQ (text, expected);
    g_autoptr (GError) error = nullptr;
    auto parsed = parse_peer_signal (text, &error);
    ASSERT_TRUE (parsed) << error->message;
    EXPECT_TRUE (parsed->has_type);
    EXPECT_EQ (serialize_peer_signal (*parsed), text);
  }
}

TEST (PeerSignal, UntypedRoundTripsTyped)
{
  const std::vector<std::pair<const char *, const char *>> rows = {
      {"{\"candidate\":{\"candidate\":\"c\",\"sdpMLineIndex\":0,\"sdpMid\":"
       "\"a\"}}",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"c\","
       "\"sdpMLineIndex\":0,\"sdpMid\":\"a\"}}"},
      {"{\"renegotiate\":true}",
       "{\"type\":\"renegotiate\",\"renegotiate\":true}"},
      {"{\"transceiverRequest\":{\"kind\":\"video\"}}",
       "{\"type\":\"transceiverRequest\",\"transceiverRequest\":{\"kind\":"
       "\"video\",\"init\":{}}}"},
  };
  for (const auto &[input, expected] : rows) {
    SCOPED_TRACE (input);
    auto parsed = parse_peer_signal (input, nullptr);
    ASSERT_TRUE (parsed);
    EXPECT_FALSE (parsed->has_type);
    EXPECT_EQ (serialize_peer_signal (*parsed), expected);
  }
}

TEST (PeerSignal, TypeNames)
{
  EXPECT_STREQ (peer_signal_type_name (PeerSignal::Type::Offer), "offer");
  EXPECT_STREQ (peer_signal_type_name (PeerSignal::Type::Answer), "answer");
  EXPECT_STREQ (peer_signal_type_name (PeerSignal::Type::Candidate),
                "candidate");
  EXPECT_STREQ (peer_signal_type_name (PeerSignal::Type::Renegotiate),
                "renegotiate");
  EXPECT_STREQ (peer_signal_type_name (PeerSignal::Type::TransceiverRequest),
                "transceiverRequest");
}

} // namespace
